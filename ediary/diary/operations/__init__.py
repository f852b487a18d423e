"""Writes to the diary: attendance, topics, grades, remarks. Each takes the actor (house rule 3).

Operations validate the domain rules and refuse with a readable message; authorisation happens
before, in the loaders (`*/access.py`). Each change writes its history rows (audit) and its
journal events (`publish`) in the caller's transaction.

One module per kind of entry: `roll` (attendance and the topic, compare-and-set), `grades`,
`remarks`; `common` holds what they share.
"""

from ediary.diary.operations.common import (
    MAX_REMARK,
    MAX_TOPIC,
    require_open,
    require_started,
)
from ediary.diary.operations.grades import correct_grade, record_grade, remove_grade
from ediary.diary.operations.remarks import add_remark, correct_remark, remove_remark
from ediary.diary.operations.roll import change_topic, set_topic, submit_roll

__all__ = [
    "MAX_REMARK",
    "MAX_TOPIC",
    "add_remark",
    "change_topic",
    "correct_grade",
    "correct_remark",
    "record_grade",
    "remove_grade",
    "remove_remark",
    "require_open",
    "require_started",
    "set_topic",
    "submit_roll",
]
