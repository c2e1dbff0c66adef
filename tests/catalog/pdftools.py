"""Small PDF checks for tests, without a PDF library: what a reader would show as the document title,
and whether the CJK font is embedded (a subset font with its FontFile2 stream)."""

from __future__ import annotations

import re

ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}


def info_string(data: bytes, key: str) -> str:
    """The literal string ``/Key (...)`` of the document information dictionary, decoded."""
    start = data.index(f"/{key} (".encode()) + len(key) + 3
    out = bytearray()
    i = start
    while data[i] != ord(")"):
        c = data[i]
        if c == ord("\\"):
            n = data[i + 1]
            if ord("0") <= n <= ord("7"):
                digits = re.match(rb"[0-7]{1,3}", data[i + 1 : i + 4]).group()
                out.append(int(digits, 8))
                i += 1 + len(digits)
                continue
            out += ESCAPES.get(n, bytes([n]))
            i += 2
            continue
        out.append(c)
        i += 1
    raw = bytes(out)
    return raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")


def embeds_cjk_font(data: bytes, font: str = "WenQuanYiZenHei") -> bool:
    return b"/FontFile2" in data and re.search(rb"/BaseFont /[A-Z]{6}\+" + font.encode(), data) is not None


def page_text(data: bytes) -> str:
    """The text a reader would show (every page, through the fonts' ToUnicode maps), whitespace removed
    so that line breaks inside a wrapped table cell do not matter."""
    import io

    from pypdf import PdfReader

    text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", "", text)
