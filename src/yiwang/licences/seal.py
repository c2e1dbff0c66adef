"""The licence seal: GB/T 36904 identifiers, the canonical payload, SM2 signing and verification.

The payload is what is signed (docs/licences.md, "签名原文"): the GB/T 36903 metadata and the
licence data as UTF-8 JSON with sorted keys and no insignificant whitespace. Status is not in it —
it changes over a licence's life and is always read live from the library.

Signing is SM2 over SM3(Z ‖ payload) with the signer ID 1234567812345678 (GB/T 32918, GB/T 35276),
DER-encoded, by GmSSL through gmssl-pyx (``yiwang.core.sm``); OpenSSL 3 verifies the signatures.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.iso7064 import mod_37_36

from yiwang.core.errors import Conflict
from yiwang.core.models import SigningKey
from yiwang.core.sm import sm2_sign, sm2_verify, sm4_decrypt

SPEC = "yiwang-licence/1"
OID_PREFIX = "1.2.156.3005.2"
SERIAL_DIGITS = 7

# payload keys → the GB/T 36903 element names shown to people (and used in tamper reports)
PAYLOAD_LABELS = {
    "spec": "格式",
    "identifier": "证照标识",
    "name": "证照名称",
    "type_code": "证照类型代码",
    "number": "证照编号",
    "version": "版本号",
    "issuer": "颁发机构",
    "issuer_code": "颁发机构代码",
    "issue_date": "颁发日期",
    "holder": "持证主体",
    "holder_code": "持证主体代码",
    "holder_code_type": "持证主体代码类型",
    "valid_from": "有效期起始",
    "valid_until": "有效期截止",
    "region_code": "管辖属地",
    "data": "照面信息",
    "key_id": "签名密钥标识",
    "signed_at": "签发时间",
}


# --- identifiers (GB/T 36904) -----------------------------------------------------------------


def format_serial(serial: int) -> str:
    return f"{serial:0{SERIAL_DIGITS}d}"


def make_identifier(type_code: str, issuer_code: str, serial: int, version: int) -> str:
    """1.2.156.3005.2.{type code}.{issuer credit code}.{serial}.{version:03d}.{check character}."""
    parts = [type_code, issuer_code, format_serial(serial), f"{version:03d}"]
    check = mod_37_36.calc_check_digit("".join(parts))
    return ".".join([OID_PREFIX, *parts, check])


def identifier_problem(identifier: str) -> str | None:
    """None if ``identifier`` is a well-formed GB/T 36904 identifier, else a Chinese reason."""
    if not identifier.startswith(OID_PREFIX + "."):
        return _("证照标识应以 %(p)s 开头。") % {"p": OID_PREFIX}
    parts = identifier[len(OID_PREFIX) + 1 :].split(".")
    if len(parts) != 5:
        return _("证照标识的段数不正确。")
    type_code, issuer_code, serial, version, check = parts
    if len(type_code) != 21 or len(issuer_code) != 18 or not serial.isdigit() or len(version) != 3:
        return _("证照标识的格式不正确。")
    middle = type_code + issuer_code + serial + version
    if not middle.isalnum() or not middle.isascii() or len(check) != 1:
        return _("证照标识含有不允许的字符。")
    if mod_37_36.calc_check_digit(middle) != check:
        return _("证照标识校验位错误。")
    return None


# --- canonical payload ------------------------------------------------------------------------


def canonical(payload: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (not \\u escapes): the exact bytes that are signed."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def iso_date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def iso_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def payload_of(licence) -> dict[str, Any]:
    """The payload as the row describes it now (compared with the signed one to detect edits)."""
    return {
        "spec": SPEC,
        "identifier": licence.identifier,
        "name": licence.name,
        "type_code": licence.type_code,
        "number": licence.number,
        "version": licence.version_code,
        "issuer": licence.issuer_name,
        "issuer_code": licence.issuer_code,
        "issue_date": iso_date(licence.issue_date),
        "holder": licence.holder_name,
        "holder_code": licence.holder_code,
        "holder_code_type": licence.holder_code_type,
        "valid_from": iso_date(licence.valid_from),
        "valid_until": iso_date(licence.valid_until),
        "region_code": licence.region_code,
        "data": licence.data,
        "key_id": licence.key_id,
        "signed_at": iso_utc(licence.signed_at),
    }


def differing_fields(signed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Chinese names of the payload elements whose values differ (照面信息 by its own keys)."""
    names = []
    for key in sorted(
        set(signed) | set(current), key=lambda k: list(PAYLOAD_LABELS).index(k) if k in PAYLOAD_LABELS else 99
    ):
        if signed.get(key) == current.get(key):
            continue
        if key == "data" and isinstance(signed.get(key), dict) and isinstance(current.get(key), dict):
            inner = sorted(k for k in set(signed[key]) | set(current[key]) if signed[key].get(k) != current[key].get(k))
            names.extend(f"{PAYLOAD_LABELS['data']}·{k}" for k in inner)
        else:
            names.append(PAYLOAD_LABELS.get(key, key))
    return names


# --- SM2 --------------------------------------------------------------------------------------


def key_in_force(key: SigningKey, moment: dt.datetime) -> bool:
    """Was ``key`` in force at ``moment``, to the second as 签发时间 is recorded? (Rotation retires a key,
    never its past.) The one rule for signing and for verifying."""
    if moment.replace(microsecond=0) < key.valid_from.replace(microsecond=0):
        return False
    return key.valid_until is None or moment <= key.valid_until


class Sealer:
    """Signs with one key. The private key is decrypted once, in memory, for the sealer's life (one
    issuing call or one import chunk) and never leaves this object."""

    def __init__(self, key: SigningKey):
        self.key = key
        self.key_id = key.key_id
        self._public = bytes(key.public_key)
        self._private = sm4_decrypt(bytes(key.private_key_enc))

    def signing_time(self) -> dt.datetime:
        """Now, to the second: the 签发时间 of what is signed next. A time outside the key's validity
        (a clock set back before the key existed, a key retired since) is refused: every verifier would
        reject the licence, so it must never be issued."""
        now = timezone.now().replace(microsecond=0)
        if not key_in_force(self.key, now):
            shown = "%Y-%m-%d %H:%M:%S"
            values = {"k": self.key_id, "a": timezone.localtime(self.key.valid_from).strftime(shown),
                      "t": timezone.localtime(now).strftime(shown)}  # fmt: skip
            if self.key.valid_until:
                values["b"] = timezone.localtime(self.key.valid_until).strftime(shown)
                message = _("签名密钥 %(k)s 的有效期为 %(a)s 至 %(b)s，不能以 %(t)s 为签发时间签发证照。")
            else:
                message = _("签名密钥 %(k)s 自 %(a)s 起生效，不能以更早的 %(t)s 为签发时间签发证照。")
            raise Conflict(message % values)
        return now

    def sign(self, message: bytes) -> bytes:
        return sm2_sign(self._private, self._public, message)

    def __repr__(self) -> str:  # never leak key material into logs
        return f"<Sealer {self.key.owner} {self.key_id}>"


verify_signature = sm2_verify
