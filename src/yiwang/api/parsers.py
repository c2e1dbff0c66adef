"""Request body parsers of the API (settings' DEFAULT_PARSER_CLASSES)."""

from __future__ import annotations

import codecs
from typing import Any

from rest_framework import parsers

from yiwang.core.jsonin import parse_json


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser through the platform's depth-limited parse: a body nested a thousand levels
    answers 400 ``too_deep`` instead of a RecursionError (500); bad JSON answers 400 ``invalid_json``."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        raw = stream.read()
        encoding = parsers.get_encoding(parser_context or {})
        try:
            if codecs.lookup(encoding).name != "utf-8":
                raw = raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            pass  # left as bytes: parse_json names the encoding it expects
        return parse_json(raw)
