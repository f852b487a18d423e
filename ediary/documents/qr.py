"""QR codes for printouts (activation letters, kiosk enrollment codes), drawn by segno as inline
SVG: no image files, nothing fetched, sharp at any print size."""

from __future__ import annotations

from markupsafe import Markup


def qr_svg(data: str, *, scale: int = 4) -> Markup:
    import segno

    code = segno.make(data, error="m", micro=False)
    # segno writes the SVG itself; `data` is encoded into the drawing, never into markup.
    return Markup(code.svg_inline(scale=scale, omitsize=False))  # noqa: S704
