"""Imports every model module, so that `Base.metadata` is complete (Alembic, create_all)."""

from ediary.audit import models as audit_models
from ediary.diary import models as diary_models
from ediary.journal import models as journal_models
from ediary.kiosks import models as kiosk_models
from ediary.people import models as people_models
from ediary.schools import models as school_models
from ediary.timetable import models as timetable_models

__all__ = [
    "audit_models",
    "diary_models",
    "journal_models",
    "kiosk_models",
    "people_models",
    "school_models",
    "timetable_models",
]
