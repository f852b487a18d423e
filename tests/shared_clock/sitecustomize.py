"""The suite's clock in every Python process a test starts (servers, kiosk agents, commands).

Python imports `sitecustomize` at start-up from its path: the test session puts this directory
on PYTHONPATH, with the offset of its clock from the real one (tests/clock.py,
`share_the_clock`), so a server or a kiosk agent started by a test reads the same "now" as the
test that checks it, whatever the real date and hour. Without the variable it does nothing.
"""

from __future__ import annotations

import os
from typing import Any

OFFSET_VARIABLE = "EDIARY_TEST_CLOCK_OFFSET"


def _travel() -> Any:
    offset = os.environ.get(OFFSET_VARIABLE)
    if offset is None:
        return None
    import datetime as dt
    import time

    import time_machine

    now = dt.datetime.fromtimestamp(time.time() + float(offset), dt.UTC)
    traveller = time_machine.travel(now, tick=True)
    traveller.start()
    return traveller


# Only as Python's start-up hook (or `share_the_clock` running this file as one): imported as a
# module of the tests' package, for its constant, it must not shift the clock a second time.
TRAVEL = _travel() if __name__ == "sitecustomize" else None
