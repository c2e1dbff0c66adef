"""Identifiers: citizen ID numbers (GB 11643) and unified social credit codes (GB 32100).

The check arithmetic comes from python-stdnum, but validation is ours: stdnum's ``validate`` also
checks its own birthplace table and registration-authority letters, which is stricter than the
standards (new region codes appear every year). Input is normalised first: spaces, dashes,
full-width characters and lower case are all accepted.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc

from .errors import InvalidInput

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, Z, S, V


def normalize(value: str) -> str:
    """NFKC (full-width → ASCII), drop spaces and dashes, upper-case."""
    value = unicodedata.normalize("NFKC", value or "")
    return "".join(ch for ch in value if not ch.isspace() and ch not in "-_").upper()


DIGITS = "0123456789"


def validate_citizen_id(value: str, *, field: str = "id_number") -> str:
    """Return the normalised 18-digit citizen ID number or raise InvalidInput naming what is wrong.

    The address code (first six digits) is not looked up in any table: GB 11643 only requires the
    GB/T 2260 code in force when the number was issued, and codes are created and retired every year.
    """
    number = normalize(value)
    if not number:
        raise InvalidInput(_("请填写公民身份号码。"), field=field)
    if len(number) == 15 and all(ch in DIGITS for ch in number):
        raise InvalidInput(_("这是15位的旧身份证号码，请填写18位公民身份号码。"), field=field)
    if len(number) != 18:
        raise InvalidInput(_("公民身份号码应为18位，当前为%(n)d位。") % {"n": len(number)}, field=field)
    for pos, ch in enumerate(number, start=1):
        # str.isdigit() would let other scripts' digits through (e.g. Arabic-Indic), hence DIGITS
        if ch not in DIGITS and not (pos == 18 and ch == "X"):
            raise InvalidInput(
                _("公民身份号码第%(pos)d位“%(ch)s”不符合要求：前17位只能是数字，第18位是数字或X。")
                % {"pos": pos, "ch": ch},
                field=field,
            )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidInput(
            _("公民身份号码第7至14位的出生日期“%(d)s”不是有效日期。") % {"d": number[6:14]}, field=field
        ) from None
    if birth > dt.date.today():
        raise InvalidInput(_("公民身份号码中的出生日期 %(d)s 晚于今天。") % {"d": birth.isoformat()}, field=field)
    if birth.year < 1880:
        raise InvalidInput(_("公民身份号码中的出生日期 %(d)s 早于1880年。") % {"d": birth.isoformat()}, field=field)
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidInput(_("公民身份号码最后一位校验码与前17位不符，请核对后重新输入。"), field=field)
    return number


def is_citizen_id(value: str) -> bool:
    try:
        validate_citizen_id(value)
    except InvalidInput:
        return False
    return True


def birth_date_of(citizen_id: str) -> dt.date:
    n = normalize(citizen_id)
    return dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))


def validate_uscc(value: str, *, field: str = "uscc") -> str:
    """Return the normalised 18-character unified social credit code or raise InvalidInput.

    Any registration-authority and organisation-type character of the GB 32100 alphabet is accepted
    (stdnum's ``validate`` refuses letters there, yet 农业 N…, 中央军委 A… and 其他 Y… codes exist).
    """
    code = normalize(value)
    if not code:
        raise InvalidInput(_("请填写统一社会信用代码。"), field=field)
    if len(code) != 18:
        raise InvalidInput(_("统一社会信用代码应为18位，当前为%(n)d位。") % {"n": len(code)}, field=field)
    bad = [(pos, ch) for pos, ch in enumerate(code, start=1) if ch not in USCC_ALPHABET]
    if bad:
        raise InvalidInput(
            _("统一社会信用代码第%(pos)s位含有不允许的字符：%(c)s（只用数字和大写字母，不使用 I、O、Z、S、V）。")
            % {"pos": _("、").join(str(p) for p, _ch in bad), "c": _("、").join(sorted({ch for _p, ch in bad}))},
            field=field,
        )
    if not all(ch in DIGITS for ch in code[2:8]):
        raise InvalidInput(_("统一社会信用代码第3至8位应为登记管理机关的行政区划码（6位数字）。"), field=field)
    if uscc.calc_check_digit(code[:17]) != code[17]:
        raise InvalidInput(_("统一社会信用代码最后一位校验码与前17位不符，请核对后重新输入。"), field=field)
    return code


def mask_citizen_id(value: str) -> str:
    """Show the region prefix and the last four characters only: 441602********123X."""
    n = normalize(value)
    if len(n) < 10:
        return "*" * len(n)
    return n[:6] + "*" * (len(n) - 10) + n[-4:]


def mask_phone(value: str) -> str:
    """The first three and last four digits: 138****1234."""
    v = normalize(value)
    return v[:3] + "****" + v[-4:] if len(v) >= 11 else "*" * len(v)


# the end of a county-level name (区、县、旗; 自治县 too) or, failing that, of a city (市、州、盟)
_COUNTY_END = re.compile(r"(?<!自治)区|[县旗]")
_CITY_END = re.compile(r"[市州盟]")
MASK = "****"


def mask_address(value: str) -> str:
    """Down to the district or county, the rest masked: 广东省河源市源城区****. An address without a
    county-level name keeps its city, one without either only its first two characters."""
    v = (value or "").strip()
    if not v:
        return ""
    found = _COUNTY_END.search(v) or _CITY_END.search(v)
    kept = v[: found.end()] if found and found.end() < len(v) else v[:2]
    return kept + MASK


def mask_account(value: str) -> str:
    """A bank account or card number: its last four digits only."""
    v = normalize(value)
    return "*" * max(len(v) - 4, 4) + v[-4:] if len(v) > 4 else "*" * len(v)


MASKS = {"id_number": mask_citizen_id, "phone": mask_phone, "address": mask_address, "account": mask_account}


def mask(kind: str, value: str) -> str:
    """Mask ``value`` as personal data of ``kind`` (a key of ``MASKS``); empty stays empty."""
    return MASKS[kind](value) if value else ""


def make_citizen_id(region: str, birth: dt.date, seq: int) -> str:
    """Build a valid ID number (for demo data and tests)."""
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def make_uscc(prefix8: str, org8: str) -> str:
    """Build a valid credit code from the first 8 characters and 8 characters of organisation code
    (for demo data and tests); the organisation code's own check character (GB 11714) is added."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    c = 11 - sum(int(ch, 36) * w for ch, w in zip(org8, weights, strict=True)) % 11
    body = prefix8 + org8 + {10: "X", 11: "0"}.get(c, str(c))
    return body + uscc.calc_check_digit(body)
