"""PDF building blocks (reportlab) with an embedded CJK font, so that guides, receipts, notices and
licences show Chinese on every reader (the built-in STSong-Light is not embedded)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "WenQuanYiZenHei"


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
