"""A person's own data (GDPR Art. 15): the page, the JSON dump and the readable PDF.

No id in the URL: it is always the logged-in person's own data and their own children's
(ediary/privacy/export.py scopes every query), so there is nothing of anyone else to ask for.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ediary.documents.pdf import pdf_response, render_pdf
from ediary.people.models import User
from ediary.portal.queries import children_of
from ediary.privacy.export import subject_access
from ediary.web.auth import login_required

bp = Blueprint("privacy", __name__)


def _me() -> User:
    """The logged-in guardian itself, not Flask-Login's proxy (the dump inspects its columns).
    Staff without children get 404: their start pages do not offer this yet (see the report)."""
    me: User = current_user._get_current_object()
    if not children_of(me):
        raise NotFound()
    return me


@bp.get("/my-data")
@login_required
def my_data() -> ResponseReturnValue:
    return render_template("privacy/my_data.html", children=children_of(_me()))


@bp.get("/my-data.json")
@login_required
def my_data_json() -> ResponseReturnValue:
    body = json.dumps(subject_access(_me()), ensure_ascii=False, indent=1)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="moje-dane.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/my-data.pdf")
@login_required
def my_data_pdf() -> ResponseReturnValue:
    data = render_pdf("privacy/my_data_pdf.html", dump=subject_access(_me()))
    return pdf_response(data, "moje-dane.pdf")
