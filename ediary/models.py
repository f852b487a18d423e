"""Imports every model module, so that `Base.metadata` is complete (Alembic, create_all)."""

from ediary.audit import models as audit_models
from ediary.classification import models as classification_models
from ediary.contacts import models as contact_models
from ediary.council import models as council_models
from ediary.diary import models as diary_models
from ediary.excuses import models as excuse_models
from ediary.gradebook import models as gradebook_models
from ediary.gradingrules import models as gradingrules_models
from ediary.homework import models as homework_models
from ediary.journal import models as journal_models
from ediary.kiosks import models as kiosk_models
from ediary.messages import models as message_models
from ediary.notifications import models as notification_models
from ediary.office import models as office_models
from ediary.office.imports import models as import_models
from ediary.people import models as people_models
from ediary.people.activation import models as activation_models
from ediary.people.twofactor import models as twofactor_models
from ediary.privacy import models as privacy_models
from ediary.records import models as record_models
from ediary.schools import models as school_models
from ediary.timetable import models as timetable_models
from ediary.web import models as web_models

__all__ = [
    "activation_models",
    "audit_models",
    "classification_models",
    "contact_models",
    "council_models",
    "diary_models",
    "excuse_models",
    "gradebook_models",
    "gradingrules_models",
    "homework_models",
    "import_models",
    "journal_models",
    "kiosk_models",
    "message_models",
    "notification_models",
    "office_models",
    "people_models",
    "privacy_models",
    "record_models",
    "school_models",
    "timetable_models",
    "twofactor_models",
    "web_models",
]
