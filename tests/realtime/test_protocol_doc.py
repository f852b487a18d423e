"""docs/protocol.md states the event catalogue exactly (types, audiences, fields)."""

from __future__ import annotations

import re
from pathlib import Path

from ediary.journal.catalogue import EVENT_TYPES

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def _table() -> dict[str, tuple[str, set[str]]]:
    section = DOC.read_text().split("## Journal events", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, set[str]]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        name, audience, fields = cells[0].strip("`"), cells[1], cells[2]
        if not re.fullmatch(r"[a-z]+\.[a-z]+", name):
            continue  # the rooms table
        same = re.fullmatch(r"the fields of `([a-z.]+)`", fields)
        rows[name] = (
            audience,
            rows[same.group(1)][1] if same else set(re.findall(r"`([a-z_]+)`", fields)),
        )
    return rows


def test_the_protocol_lists_every_event_type_with_its_audience_and_fields() -> None:
    table = _table()
    assert set(table) == set(EVENT_TYPES)
    for name, event_type in EVENT_TYPES.items():
        assert table[name] == (event_type.audience.value, set(event_type.fields)), name
