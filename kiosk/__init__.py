"""The classroom kiosk agent: a local program on each classroom PC.

It serves the kiosk screens to a Chromium on 127.0.0.1, keeps the device credential where the
browser's user cannot read it, keeps every entry in a durable outbox, and talks to the ediary server
over Socket.IO as an enrolled device. It imports nothing from `ediary`: the two share only the wire
protocol written down in docs/protocol.md.
"""

__version__ = "0.1.0"
