"""Application form definitions (申请表定义), stored as data on each item version.

A schema is a list of fields::

    [{"name": "shop_name", "label": "店铺名称", "type": "text", "required": true, "max_length": 50},
     {"name": "category", "label": "经营类别", "type": "select",
      "options": [{"value": "retail", "label": "食品销售"}, {"value": "catering", "label": "餐饮服务"}]},
     {"name": "staff", "label": "从业人数", "type": "number", "min": 1, "max": 500}]

A field may say what the platform fills in for the applicant (``"prefill": "person.phone"``, one of
``identity.selectors.PREFILL_SOURCES``); the applicant can still change it, except the ID number, which
is shown masked and filled in server-side. Public functions:

- ``validate_schema(schema)`` checks a definition (used when a version is saved or published);
- ``validate_form_data(schema, data)`` checks what an applicant submitted and returns the cleaned
  values, or raises ``InvalidInput`` whose ``errors`` maps each field name to a Chinese message;
- ``prefilled_fields(schema, values)`` the fields' prefilled values.

Cleaned values are JSON-ready: text as ``str``, number as ``int`` (or ``float`` with a fraction),
date as ISO ``"YYYY-MM-DD"``, checkbox as ``bool``, select as the option's value, ID number and
credit code normalised (upper case, no spaces). An empty optional field is ``None`` (``False`` for
a checkbox). Keys that the schema does not define are dropped: the platform collects only what the
item needs.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from yiwang.core.errors import InvalidInput
from yiwang.core.ids import normalize, validate_citizen_id, validate_uscc
from yiwang.identity.selectors import PREFILL_SOURCES

FIELD_TYPES = ("text", "textarea", "number", "date", "select", "checkbox", "id_number", "uscc", "phone")
TEXT_TYPES = ("text", "textarea")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ALLOWED_KEYS = {
    "name",
    "label",
    "type",
    "required",
    "help",
    "max_length",
    "pattern",
    "pattern_message",
    "min",
    "max",
    "options",
    "prefill",
}
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 2000}
# what a number, date, choice, ID number or phone can take as typed: far more than any needs
OTHER_MAX_LENGTH = 100
# how the result reaches the applicant is the case's own choice (cases.DeliveryMethod), never a form field
DELIVERY_NAMES = {"delivery", "delivery_method", "delivery_address", "pickup", "pickup_method"}
DELIVERY_WORDS = ("领取方式", "送达方式", "取件方式")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _option_values(options: list) -> list[str]:
    return [str(o["value"]) if isinstance(o, dict) else str(o) for o in options]


def option_choices(spec: dict) -> list[tuple[str, str]]:
    """(value, label) pairs of a select field; an option may be a plain string or {value, label}."""
    return [
        (str(o["value"]), str(o.get("label", o["value"]))) if isinstance(o, dict) else (str(o), str(o))
        for o in spec.get("options", [])
    ]


def display_value(spec: dict, value: Any) -> Any:
    """What a person reads for a stored value: the option label of a select field, else the value."""
    if spec.get("type") == "select":
        return dict(option_choices(spec)).get(str(value), value)
    return value


def _asks_delivery(spec: dict) -> bool:
    """A field of its own for how the result is delivered: the application page asks that already
    (办理结果送达方式, what delivery uses), so a form must not ask it a second time."""
    label = spec.get("label") if isinstance(spec.get("label"), str) else ""
    return spec.get("name") in DELIVERY_NAMES or any(word in label for word in DELIVERY_WORDS)


def validate_schema(schema: Any, *, authoring: bool = True) -> list[dict]:
    """Check a form definition; return it unchanged or raise ``InvalidInput`` listing every problem.

    ``errors`` is a list of Chinese messages, each naming the field by position and name.
    ``authoring=False`` (checking an applicant's data against a stored definition) skips the rules
    added after definitions were stored, so that an older published version keeps working.
    """
    problems: list[str] = []
    if not isinstance(schema, list):
        raise InvalidInput(_("申请表定义应为字段列表（JSON 数组）。"), field="form_schema", errors=[])
    seen: set[str] = set()
    for index, spec in enumerate(schema, start=1):
        where = _("第%(n)d个字段") % {"n": index}
        if not isinstance(spec, dict):
            problems.append(_("%(w)s：应为对象（JSON 对象）。") % {"w": where})
            continue
        name = spec.get("name")
        if isinstance(name, str) and name:
            where = _("第%(n)d个字段「%(name)s」") % {"n": index, "name": name}
        unknown = sorted(set(spec) - ALLOWED_KEYS)
        if unknown:
            problems.append(_("%(w)s：不支持的属性 %(k)s。") % {"w": where, "k": _("、").join(unknown)})
        if not isinstance(name, str) or not NAME_RE.match(name):
            problems.append(_("%(w)s：name 应以小写字母开头，只含小写字母、数字和下划线，最长40位。") % {"w": where})
        elif name in seen:
            problems.append(_("%(w)s：name 与前面的字段重复。") % {"w": where})
        else:
            seen.add(name)
        label = spec.get("label")
        if not isinstance(label, str) or not label.strip():
            problems.append(_("%(w)s：缺少标签 label。") % {"w": where})
        if authoring and _asks_delivery(spec):
            problems.append(
                _("%(w)s：结果送达（领取）方式由申请页面统一询问（办理结果送达方式），申请表中不要另设此字段。")
                % {"w": where}
            )
        kind = spec.get("type")
        if kind not in FIELD_TYPES:
            problems.append(
                _("%(w)s：类型「%(t)s」不受支持，可用类型：%(all)s。")
                % {"w": where, "t": kind, "all": _("、").join(FIELD_TYPES)}
            )
            continue
        if "required" in spec and not isinstance(spec["required"], bool):
            problems.append(_("%(w)s：required 应为 true 或 false。") % {"w": where})
        if "help" in spec and not isinstance(spec["help"], str):
            problems.append(_("%(w)s：help 应为文字。") % {"w": where})
        if "max_length" in spec:
            if kind not in TEXT_TYPES:
                problems.append(_("%(w)s：只有文本字段可以设置 max_length。") % {"w": where})
            elif (
                not isinstance(spec["max_length"], int)
                or isinstance(spec["max_length"], bool)
                or spec["max_length"] < 1
            ):
                problems.append(_("%(w)s：max_length 应为正整数。") % {"w": where})
        if "pattern" in spec or "pattern_message" in spec:
            if kind != "text":
                problems.append(_("%(w)s：只有单行文本字段可以设置 pattern。") % {"w": where})
            elif not isinstance(spec.get("pattern"), str):
                problems.append(_("%(w)s：pattern 应为正则表达式文字。") % {"w": where})
            else:
                try:
                    re.compile(spec["pattern"])
                except re.error:
                    problems.append(_("%(w)s：pattern 不是有效的正则表达式。") % {"w": where})
        for bound in ("min", "max"):
            if bound not in spec:
                continue
            value = spec[bound]
            if kind == "number":
                if not _is_number(value):
                    problems.append(_("%(w)s：%(b)s 应为数字。") % {"w": where, "b": bound})
            elif kind == "date":
                if not isinstance(value, str) or _parse_date(value) is None:
                    problems.append(_("%(w)s：%(b)s 应为日期（年-月-日）。") % {"w": where, "b": bound})
            else:
                problems.append(_("%(w)s：只有数字和日期字段可以设置 %(b)s。") % {"w": where, "b": bound})
        if kind == "select":
            options = spec.get("options")
            if not isinstance(options, list) or not options:
                problems.append(_("%(w)s：下拉选择字段须有 options 选项列表。") % {"w": where})
            else:
                for option in options:
                    if isinstance(option, dict):
                        ok = isinstance(option.get("value"), str | int) and isinstance(option.get("label"), str)
                    else:
                        ok = isinstance(option, str)
                    if not ok:
                        problems.append(_("%(w)s：选项应为文字，或含 value 和 label 的对象。") % {"w": where})
                        break
                else:
                    values = _option_values(options)
                    if len(set(values)) != len(values):
                        problems.append(_("%(w)s：选项的值有重复。") % {"w": where})
        elif "options" in spec:
            problems.append(_("%(w)s：只有下拉选择字段可以设置 options。") % {"w": where})
        if "prefill" in spec and (not isinstance(spec["prefill"], str) or spec["prefill"] not in PREFILL_SOURCES):
            problems.append(
                _("%(w)s：prefill「%(s)s」不是可预填的信息来源，可用：%(all)s。")
                % {"w": where, "s": spec["prefill"], "all": _("、").join(PREFILL_SOURCES)}
            )
    if problems:
        raise InvalidInput(
            _("申请表定义有误：%(p)s") % {"p": _("；").join(problems)}, field="form_schema", errors=problems
        )
    return schema


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        return None


def value_limit(spec: dict) -> int:
    """How many characters a value of this field may have: a text field's ``max_length`` (or its
    type's default), ``OTHER_MAX_LENGTH`` for the other types."""
    kind = spec.get("type")
    if kind in TEXT_TYPES:
        return spec.get("max_length", DEFAULT_MAX_LENGTH[kind])
    return OTHER_MAX_LENGTH


def typed_form_data(schema: list[dict], data: Any, *, strict: bool = True) -> dict[str, Any]:
    """What an applicant typed, kept unchecked in a draft: only the schema's fields, each a plain value
    (text, number, true/false) no longer than the field allows (``value_limit``).

    ``strict``: a value that breaks this raises ``InvalidInput`` naming every such field (as
    ``validate_form_data`` does); otherwise it is left out (its problem is reported elsewhere)."""
    kept: dict[str, Any] = {}
    errors: dict[str, str] = {}
    data = data if isinstance(data, dict) else {}
    for spec in schema:
        name = spec.get("name")
        if name not in data:
            continue
        value, label = data[name], spec.get("label") or name
        if value is not None and not isinstance(value, str | int | float | bool):
            errors[name] = _("「%(l)s」应为文字或数字。") % {"l": label}
        elif isinstance(value, str) and len(value) > value_limit(spec):
            errors[name] = _too_long(label, value_limit(spec), value)
        else:
            kept[name] = value
    if errors and strict:
        raise _form_errors(errors)
    return kept


def _too_long(label: str, limit: int, text: str) -> str:
    return _("「%(l)s」不能超过%(m)d个字（当前%(n)d个）。") % {"l": label, "m": limit, "n": len(text)}


def _form_errors(errors: dict[str, str]) -> InvalidInput:
    return InvalidInput(
        _("申请表有%(n)d处需要修改：%(e)s") % {"n": len(errors), "e": _("；").join(errors.values())},
        field=next(iter(errors)) if len(errors) == 1 else None,
        errors=errors,
    )


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _clean_field(spec: dict, value: Any) -> Any:
    """Return the cleaned value of one non-empty field or raise ValueError with the message."""
    label = spec["label"]
    kind = spec["type"]
    if isinstance(value, str) and len(value.strip()) > value_limit(spec):
        raise ValueError(_too_long(label, value_limit(spec), value.strip()))
    if kind in TEXT_TYPES:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(_("「%(l)s」应为文字。") % {"l": label})
        text = str(value).strip()
        if len(text) > value_limit(spec):
            raise ValueError(_too_long(label, value_limit(spec), text))
        pattern = spec.get("pattern")
        if pattern and not re.fullmatch(pattern, text):
            raise ValueError(spec.get("pattern_message") or _("「%(l)s」的格式不正确。") % {"l": label})
        return text
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError(_("「%(l)s」应为数字。") % {"l": label})
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(_("「%(l)s」应为数字。") % {"l": label}) from None
        if not number.is_finite():
            raise ValueError(_("「%(l)s」应为数字。") % {"l": label})
        if "min" in spec and number < Decimal(str(spec["min"])):
            raise ValueError(_("「%(l)s」不能小于%(m)s。") % {"l": label, "m": spec["min"]})
        if "max" in spec and number > Decimal(str(spec["max"])):
            raise ValueError(_("「%(l)s」不能大于%(m)s。") % {"l": label, "m": spec["max"]})
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "date":
        day = value if isinstance(value, dt.date) else _parse_date(value) if isinstance(value, str) else None
        if day is None:
            raise ValueError(_("「%(l)s」应为有效日期，格式为 年-月-日，例如 2026-03-01。") % {"l": label})
        if "min" in spec and day < dt.date.fromisoformat(spec["min"]):
            raise ValueError(_("「%(l)s」不能早于%(m)s。") % {"l": label, "m": spec["min"]})
        if "max" in spec and day > dt.date.fromisoformat(spec["max"]):
            raise ValueError(_("「%(l)s」不能晚于%(m)s。") % {"l": label, "m": spec["max"]})
        return day.isoformat()
    if kind == "select":
        options = spec["options"]
        chosen = str(value).strip()
        if chosen not in _option_values(options):
            raise ValueError(_("「%(l)s」请从给出的选项中选择。") % {"l": label})
        for option in options:
            if isinstance(option, dict) and str(option["value"]) == chosen:
                return option["value"]
        return chosen
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"on", "true", "1", "yes", "是"}:
            return True
        if text in {"off", "false", "0", "no", "否"}:
            return False
        raise ValueError(_("「%(l)s」应为勾选或不勾选。") % {"l": label})
    if kind == "id_number":
        try:
            return validate_citizen_id(str(value), field=spec["name"])
        except InvalidInput as exc:
            raise ValueError(_("「%(l)s」：%(e)s") % {"l": label, "e": exc.message}) from None
    if kind == "uscc":
        try:
            return validate_uscc(str(value), field=spec["name"])
        except InvalidInput as exc:
            raise ValueError(_("「%(l)s」：%(e)s") % {"l": label, "e": exc.message}) from None
    if kind == "phone":
        number = normalize(str(value))
        if not (MOBILE_RE.match(number) or LANDLINE_RE.match(number)):
            raise ValueError(
                _("「%(l)s」应为11位手机号码或带区号的固定电话，例如 13800000000 或 0762-3388123。") % {"l": label}
            )
        return number
    raise ValueError(_("「%(l)s」的类型不受支持。") % {"l": label})


def prefilled_fields(schema: list[dict], values: dict[str, str]) -> dict[str, str]:
    """Field name → value for the fields whose ``prefill`` source has a value in ``values``
    (``identity.selectors.prefill_values``)."""
    return {
        spec["name"]: values[spec["prefill"]]
        for spec in schema
        if isinstance(spec, dict) and spec.get("name") and values.get(spec.get("prefill") or "")
    }


def validate_form_data(schema: list[dict], data: dict[str, Any]) -> dict[str, Any]:
    """Check submitted ``data`` against ``schema``; return the cleaned dict.

    Raises ``InvalidInput`` with ``errors={field name: Chinese message}`` listing every wrong field
    at once (一次性告知), never only the first one.
    """
    validate_schema(schema, authoring=False)
    data = data or {}
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in schema:
        name = spec["name"]
        value = data.get(name)
        if spec["type"] == "checkbox":
            try:
                ticked = False if _is_empty(value) else _clean_field(spec, value)
            except ValueError as exc:
                errors[name] = str(exc)
                continue
            if spec.get("required") and not ticked:
                errors[name] = _("请勾选「%(l)s」。") % {"l": spec["label"]}
            else:
                cleaned[name] = ticked
            continue
        if _is_empty(value):
            if spec.get("required"):
                if spec["type"] == "select":
                    errors[name] = _("请选择「%(l)s」。") % {"l": spec["label"]}
                else:
                    errors[name] = _("请填写「%(l)s」。") % {"l": spec["label"]}
            else:
                cleaned[name] = None
            continue
        try:
            cleaned[name] = _clean_field(spec, value)
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise _form_errors(errors)
    return cleaned


__all__ = [
    "FIELD_TYPES",
    "prefilled_fields",
    "typed_form_data",
    "validate_form_data",
    "validate_schema",
    "value_limit",
]
