"""PDF building blocks (reportlab) with an embedded CJK font, so that guides, receipts, notices and
licences show Chinese on every reader (the built-in STSong-Light is not embedded)."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils.html import escape
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "WenQuanYiZenHei"
SEAL_RED = colors.HexColor("#c8102e")


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register and return the embedded CJK font name (fonts-wqy-zenhei)."""
    path = Path(settings.YIWANG_CJK_FONT)
    if not path.exists():
        raise RuntimeError(f"CJK font not found at {path}: install the Debian package fonts-wqy-zenhei")
    pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
    return FONT


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles using the CJK font, with CJK line wrapping."""
    font = cjk_font()
    base = getSampleStyleSheet()
    out = {}
    for name, size, lead in [("Title", 20, 28), ("Heading2", 14, 20), ("Heading3", 12, 17), ("Normal", 10.5, 16)]:
        out[name] = ParagraphStyle(
            name=f"CJK{name}", parent=base[name], fontName=font, fontSize=size, leading=lead, wordWrap="CJK"
        )
    out["Small"] = ParagraphStyle(name="CJKSmall", parent=out["Normal"], fontSize=8.5, leading=12)
    out["Cell"] = ParagraphStyle(name="CJKCell", parent=out["Normal"], fontSize=9.5, leading=13)
    return out


def paragraph_text(text: object) -> str:
    """Data for a reportlab Paragraph, which reads mini-HTML: markup escaped (a name "<b>…" or "<script>"
    is printed as typed, never parsed), line breaks kept."""
    return escape(str(text if text is not None else "")).replace("\n", "<br/>")


def draw_seal(c, cx: float, cy: float, text: str, label: str, *, radius: float = 22 * mm) -> None:
    """An organisation's seal mark on a reportlab canvas: red ring, its name along the arc, a star in
    the middle and ``label`` (电子证照专用章, 业务专用章 …) beneath. The mark shows who sealed; the
    SM2 signature over the file is what proves it."""
    font = cjk_font()
    r = radius
    k = r / (22 * mm)  # the licence's 44 mm seal is the reference size
    c.saveState()
    c.setStrokeColor(SEAL_RED)
    c.setFillColor(SEAL_RED)
    c.setLineWidth(2.2 * k)
    c.circle(cx, cy, r, stroke=1, fill=0)
    size = (11 if len(text) <= 14 else 9) * k
    c.setFont(font, size)
    span = min(250.0, 18.0 * len(text))  # degrees of arc the name occupies, centred at the top
    for i, ch in enumerate(text):
        angle = 90 + span / 2 - (span * (i + 0.5) / len(text))
        rad = math.radians(angle)
        c.saveState()
        inner = r - 5 * mm * k
        c.translate(cx + inner * math.cos(rad), cy + inner * math.sin(rad))
        c.rotate(angle - 90)
        c.drawCentredString(0, -size / 3, ch)
        c.restoreState()
    star = c.beginPath()
    for n in range(10):
        rr = (7 * mm if n % 2 == 0 else 2.8 * mm) * k
        a = math.radians(90 + n * 36)
        x, y = cx + rr * math.cos(a), cy + rr * math.sin(a)
        star.moveTo(x, y) if n == 0 else star.lineTo(x, y)
    star.close()
    c.drawPath(star, stroke=0, fill=1)
    c.setFont(font, 8 * k)
    c.drawCentredString(cx, cy - 13 * mm * k, label)
    c.restoreState()
