"""The one parse of JSON that a client sent (request bodies, JSON fields of a form, uploaded files).

Python's ``json`` recurses once per level of nesting: a body of a thousand ``[`` raises RecursionError
(a 500), and a structure a few hundred levels deep still breaks whatever walks it later (the audit's
canonical form, ``json.dumps``). No document of ours nests more than a few levels, so anything deeper
than ``MAX_DEPTH`` is refused with a 400 that names the field.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from yiwang.core.errors import InvalidInput

# form data, licence envelopes and payment notices nest three or four levels
MAX_DEPTH = 32


class JsonTooDeep(InvalidInput):
    code = "too_deep"


class JsonInvalid(InvalidInput):
    code = "invalid_json"


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit`` containers, walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _refuse_constant(name: str) -> None:
    raise ValueError(name)


def parse_json(text: str | bytes, *, field: str | None = None, label: str | None = None) -> Any:
    """``text`` parsed as JSON, at most ``MAX_DEPTH`` levels deep.

    Raises ``JsonTooDeep`` or ``JsonInvalid`` (400, ``field`` set) with a Chinese message naming the
    field (``label``, else ``field``, else the request body)."""
    name = label or field or _("请求正文")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonInvalid(_("%(f)s不是有效的 JSON（须为 UTF-8 编码）。") % {"f": name}, field=field) from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        value = None
        too_deep = True
    except json.JSONDecodeError as exc:
        raise JsonInvalid(
            _("%(f)s不是有效的 JSON（第 %(p)d 个字符附近）。") % {"f": name, "p": exc.pos + 1}, field=field
        ) from None
    except ValueError:  # NaN or Infinity, which JSON does not have
        raise JsonInvalid(_("%(f)s不是有效的 JSON（含 NaN 或 Infinity）。") % {"f": name}, field=field) from None
    else:
        too_deep = _depth_exceeds(value, MAX_DEPTH)
    if too_deep:
        raise JsonTooDeep(
            _("%(f)s的 JSON 嵌套过深（最多 %(n)d 层）。") % {"f": name, "n": MAX_DEPTH},
            field=field,
        )
    return value


class JSONField(serializers.JSONField):
    """DRF's JSONField whose JSON text (a multipart form's field) goes through ``parse_json``."""

    def to_internal_value(self, data: Any) -> Any:
        if self.binary or getattr(data, "is_json_string", False):
            return parse_json(data, field=self.field_name, label=str(self.label) if self.label else None)
        return super().to_internal_value(data)
