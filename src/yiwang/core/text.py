"""Composing Chinese text from pieces that may already carry their own punctuation.

A reason typed by an official ("……不符合法定条件。") is often put into a longer message: joined
with "；", wrapped in "（…）" or followed by "。". Stripping the piece's own end mark at that joining
point keeps notices and SMS texts free of "。；", "。。", "；。" and "。）".
"""

from __future__ import annotations

from collections.abc import Iterable

# marks that end a clause or a sentence, full-width and ASCII
END_MARKS = "。；;，,.、 \t\r\n\u3000"


def clause(text: str | None) -> str:
    """``text`` without its trailing full stop, semicolon or comma: ready to be joined or wrapped."""
    return (text or "").strip().rstrip(END_MARKS)


def sentence(text: str | None) -> str:
    """``text`` ending with exactly one "。" (kept as is when it ends with ！ or ？); empty stays empty."""
    body = clause(text)
    if not body:
        return ""
    return body if body[-1] in "！？!?" else body + "。"


def join_clauses(parts: Iterable[str | None], sep: str = "；") -> str:
    """Non-empty ``parts`` as clauses joined by ``sep`` (no end mark of their own is kept)."""
    return sep.join(c for c in (clause(p) for p in parts) if c)
