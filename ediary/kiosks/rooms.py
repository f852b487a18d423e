"""A kiosk's Socket.IO namespace and room.

Every connection of a kiosk joins the room `kiosk:<id>` of the `/kiosk` namespace (the realtime
layer's `kiosk_room`): the relay delivers the kiosk's journal events there and, when the kiosk
is revoked or enrolled again with a new secret (`kiosk_cut_off`, declared by the operation),
sends `revoked` to the room's sockets and disconnects them, in every server process. No
operation emits on Socket.IO itself; every event re-reads the kiosk row besides (sockets.py,
`_device`), a defence for a socket the control has not reached.
"""

from __future__ import annotations

from ediary.realtime.rooms import KIOSK as NAMESPACE
from ediary.realtime.rooms import kiosk_room

__all__ = ["NAMESPACE", "kiosk_room"]
