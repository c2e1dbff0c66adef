"""Verifying licences (互认共享): a licence file (.ylic or the PDF that embeds it), a scanned QR code,
or a row of the library itself. Every failure is a Chinese sentence that says what is wrong.

A licence is genuine when its signature verifies with the issuer's published key, the key belonged
to the issuer when it signed, and the library holds the same, untampered record. Its *status*
(valid / expired / suspended / revoked / superseded) is always the library's live status.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.audit import history
from yiwang.core.jsonin import JsonInvalid, parse_json
from yiwang.core.models import SigningKey
from yiwang.core.sm import blind_index, kek, sm3_hex, sm3_hmac
from yiwang.core.timefmt import local_iso, local_text

from .models import Licence
from .seal import SPEC, differing_fields, identifier_problem, key_in_force, payload_of, verify_signature
from .services import effective_status

FILE_FORMAT = "yiwang-licence-file/1"
MAX_FILE_BYTES = 5 * 1024 * 1024
QR_TOKEN_TTL = 300  # seconds: a screenshot of the code is useless a few minutes later
# a printed PDF must stay checkable; its code shows only the public facts and the live status
PDF_QR_TOKEN_TTL = 366 * 24 * 3600

# what a holder may choose to show through the QR code, beyond the licence's public facts
SHOW_CHOICES = {"holder": gettext_lazy("持证主体"), "data": gettext_lazy("照面信息")}


@dataclass
class Verdict:
    genuine: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    licence: Licence | None = None
    status: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # shown to the verifier (label → value)
    checked: bool = True  # False: nothing could be checked (e.g. an expired QR code), not a forgery

    @property
    def status_label(self) -> str:
        return str(Licence.Status(self.status).label) if self.status else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "genuine": self.genuine,
            "checked": self.checked,
            "problems": self.problems,
            "notes": self.notes,
            "identifier": self.licence.identifier if self.licence else self.facts.get(_("证照标识")),
            "status": self.status,
            "status_label": self.status_label,
            "facts": self.facts,
            "checked_at": local_iso(timezone.now()),
        }


# --- the library's own record -----------------------------------------------------------------


def record_problems(licence: Licence, *, verified: tuple[SigningKey, bytes, bytes] | None = None) -> list[str]:
    """Why this row cannot be trusted (empty if it is intact): signature, hash, every sealed field,
    the lookup keys derived from the holder code, and the status against the audit trail.

    ``verified`` = (key, payload, signature) that the caller has just verified (a file being checked):
    if the row holds exactly those, its signature is not verified a second time."""
    problems: list[str] = []
    payload = (licence.payload or "").encode("utf-8")
    signature = bytes(licence.signature)
    reuse = verified is not None and verified[0].key_id == licence.key_id
    key = verified[0] if reuse else _key(licence.key_id)
    if key is None:
        return [_("签名密钥 %(k)s 不在公布的密钥列表中。") % {"k": licence.key_id}]
    if sm3_hex(payload) != licence.payload_hash:
        problems.append(_("证照库记录的签名原文摘要不符，记录已被篡改。"))
    already = verified is not None and verified[0] is key and verified[1:] == (payload, signature)
    if not already and not verify_signature(bytes(key.public_key), payload, signature):
        problems.append(_("证照库记录的签名验证失败，记录已被篡改。"))
        return problems
    try:
        signed = json.loads(payload)
    except ValueError:
        return [*problems, _("证照库记录的签名原文无法解析。")]
    changed = differing_fields(signed, payload_of(licence))
    if changed:
        problems.append(_("证照库记录的以下内容与签名不一致（已被篡改）：%(f)s。") % {"f": _("、").join(changed)})
    if key.owner != signed.get("issuer_code"):
        problems.append(_("签名密钥不属于颁发机构 %(i)s。") % {"i": signed.get("issuer", "")})
    if not _within(key, _parse_utc(signed.get("signed_at"))):
        problems.append(_("签发时间不在签名密钥的有效期内。"))
    if licence.holder_digest != blind_index(licence.holder_code or ""):
        problems.append(_("证照库记录的持证主体索引与持证主体代码不一致（已被篡改）。"))
    recorded = _recorded_status(licence)
    if recorded is not None and recorded != licence.status:
        problems.append(
            _("证照库记录的状态“%(s)s”与审计记录“%(a)s”不一致（已被篡改）。")
            % {
                "s": licence.get_status_display(),
                "a": Licence.Status(recorded).label if recorded in Licence.Status.values else recorded,
            }
        )
    return problems


def _recorded_status(licence: Licence) -> str | None:
    """The status written by the latest audit event of the licence that set one."""
    for data in history(licence).order_by("-seq").values_list("data", flat=True).iterator():
        if isinstance(data, dict) and "status" in data:
            return data["status"]
    return None


def _key(key_id: str) -> SigningKey | None:
    try:
        return SigningKey.objects.get(key_id=key_id)
    except SigningKey.DoesNotExist:
        return None


def _load(identifier: str) -> tuple[Licence | None, str | None]:
    try:
        return Licence.objects.select_related("licence_type").get(identifier=identifier), None
    except Licence.DoesNotExist:
        return None, None
    except ValueError:  # an encrypted column that no longer decrypts
        return None, _("证照库记录已损坏（加密字段无法解密），无法核验。")


def _status_notes(licence: Licence, status: str) -> list[str]:
    notes = []
    if status == Licence.Status.SUPERSEDED and hasattr(licence, "next_version"):
        notes.append(_("该版本已换发，现行版本为 %(v)s。") % {"v": licence.next_version.version_code})
    if status in (Licence.Status.SUSPENDED, Licence.Status.REVOKED) and licence.status_reason:
        notes.append(_("原因：%(r)s") % {"r": licence.status_reason})
    return notes


def validity_text(valid_from: dt.date, valid_until: dt.date | None) -> str:
    until = valid_until.isoformat() if valid_until else _("长期")
    return _("%(a)s 至 %(b)s") % {"a": valid_from.isoformat(), "b": until}


def public_facts(licence: Licence, *, show: set[str] = frozenset()) -> dict[str, Any]:
    """What anyone verifying may see: the licence's public facts plus what the holder chose to show."""
    facts: dict[str, Any] = {
        _("证照名称"): licence.name,
        _("证照编号"): licence.number,
        _("证照标识"): licence.identifier,
        _("颁发机构"): licence.issuer_name,
        _("颁发日期"): licence.issue_date.isoformat(),
        _("签发时间"): local_text(licence.signed_at),
        _("有效期"): validity_text(licence.valid_from, licence.valid_until),
    }
    if "holder" in show:
        facts[_("持证主体")] = licence.holder_name
        facts[_("持证主体代码")] = licence.holder_masked
    if "data" in show:
        labels = licence.licence_type.field_labels()
        for key, value in licence.data.items():
            facts[labels.get(key, key)] = value
    return facts


def verify_licence(
    licence: Licence, *, show: set[str] = frozenset(), verified: tuple[SigningKey, bytes, bytes] | None = None
) -> Verdict:
    """Verify a row of the library (QR code, 亮证 page, or behind a file)."""
    problems = record_problems(licence, verified=verified)
    status = effective_status(licence)
    return Verdict(
        genuine=not problems,
        problems=problems,
        notes=_status_notes(licence, status),
        licence=licence,
        status=status,
        facts=public_facts(licence, show=show),
    )


def check_scanned(identifier: str, token: str) -> Verdict:
    """扫码核验: the QR code carries the identifier and a short-lived token saying what is shown."""
    show, problem = read_qr_token(identifier, token)
    if problem:
        return Verdict(False, [problem], checked=False)
    licence, broken = _load(identifier)
    if broken:
        return Verdict(False, [broken])
    if licence is None:
        return Verdict(False, [_("证照库中查无此证照，请向颁发机构核实。")])
    return verify_licence(licence, show=show)


# --- a licence file ---------------------------------------------------------------------------

_EMBEDDED = re.compile(rb"<<([^<>]*?/Type\s*/EmbeddedFile\b[^<>]*?)>>\s*stream\r?\n")
_LENGTH = re.compile(rb"/Length\s+(\d+)")


def embedded_envelope(pdf: bytes) -> bytes | None:
    """The .ylic file embedded in one of our licence PDFs (an uncompressed EmbeddedFile stream)."""
    for match in _EMBEDDED.finditer(pdf):
        length = _LENGTH.search(match.group(1))
        if length is None:
            continue
        content = pdf[match.end() : match.end() + int(length.group(1))]
        if FILE_FORMAT.encode() in content:
            return content
    return None


def _b64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return base64.b64decode(value, validate=True)


def verify_file(content: bytes) -> Verdict:
    """Verify an uploaded licence file: the .ylic JSON envelope, or our PDF that embeds it."""
    if len(content) > MAX_FILE_BYTES:
        return Verdict(False, [_("文件过大（超过 5 MB），不是电子证照文件。")])
    if content.startswith(b"%PDF"):
        inner = embedded_envelope(content)
        if inner is None:
            return Verdict(
                False, [_("该 PDF 中没有电子证照文件（.ylic），无法核验；请上传本平台下载的证照 PDF 或 .ylic 文件。")]
            )
        content = inner
    label = _("证照文件")
    try:
        env = parse_json(content, field="file", label=label)
        if not isinstance(env, dict) or env.get("format") != FILE_FORMAT:
            raise ValueError("format")
        payload = _b64(env.get("payload"))
        signature = _b64(env.get("signature"))
        key_id = str(env.get("key_id", ""))
        signed = parse_json(payload, field="file", label=label)
        if not isinstance(signed, dict):
            raise ValueError("payload")
    except (JsonInvalid, ValueError, binascii.Error):
        # a nesting too deep (JsonTooDeep) is no file of ours either, but is refused as a bad request
        return Verdict(False, [_("文件格式不正确：不是本平台的电子证照文件（.ylic）。")])

    facts = {
        _("证照名称"): signed.get("name"),
        _("证照编号"): signed.get("number"),
        _("证照标识"): signed.get("identifier"),
        _("颁发机构"): signed.get("issuer"),
        _("签发时间"): local_text(_parse_utc(signed.get("signed_at"))),
    }
    key = _key(key_id)
    if key is None:
        return Verdict(
            False, [_("签名密钥 %(k)s 不在公布的密钥列表中，无法确认颁发机构。") % {"k": key_id}], facts=facts
        )
    if not verify_signature(bytes(key.public_key), payload, signature):
        return Verdict(False, [_("签名验证失败：文件内容与签名不符，文件已被篡改或不是颁发机构签发的。")], facts=facts)

    problems: list[str] = []
    if signed.get("spec") != SPEC:
        problems.append(_("签名原文格式不受支持。"))
    if signed.get("key_id") != key_id:
        problems.append(_("文件中的签名密钥标识与签名原文不一致。"))
    if env.get("identifier") != signed.get("identifier"):
        problems.append(_("文件中的证照标识与签名原文不一致。"))
    if key.owner != signed.get("issuer_code"):
        problems.append(_("签名密钥不属于颁发机构 %(i)s。") % {"i": signed.get("issuer", "")})
    if not _within(key, _parse_utc(signed.get("signed_at"))):
        problems.append(_("签发时间不在签名密钥的有效期内。"))
    bad_identifier = identifier_problem(str(signed.get("identifier", "")))
    if bad_identifier:
        problems.append(bad_identifier)
    if problems:
        return Verdict(False, problems, facts=facts)

    licence, broken = _load(signed["identifier"])
    if broken:
        return Verdict(False, [broken], facts=facts)
    if licence is None:
        return Verdict(False, [_("签名有效，但证照库中查无此证照（可能已被删除），请向颁发机构核实。")], facts=facts)
    verdict = verify_licence(licence, show={"holder", "data"}, verified=(key, payload, signature))
    if sm3_hex(payload) != licence.payload_hash:
        try:
            stored = json.loads(licence.payload)
        except ValueError:
            stored = {}
        changed = differing_fields(signed, stored) or [_("签名原文")]
        verdict.problems.append(_("文件与证照库中的记录不一致：%(f)s。") % {"f": _("、").join(changed)})
        verdict.genuine = False
    return verdict


def _within(key: SigningKey, signed_at: dt.datetime | None) -> bool:
    return signed_at is not None and key_in_force(key, signed_at)


def _parse_utc(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


# --- QR codes (亮证) ---------------------------------------------------------------------------


def _qr_mac(identifier: str, expires: int, show: str) -> str:
    mac = sm3_hmac(kek() + b"licence-qr", f"{identifier}|{expires}|{show}".encode())[:12]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def make_qr_token(
    licence: Licence, show: set[str] = frozenset(), *, ttl: int = QR_TOKEN_TTL, now: float | None = None
) -> str:
    """A short-lived token bound to the identifier and to what the holder shows: no personal data."""
    expires = int((now or time.time()) + ttl)
    shown = "".join(sorted(s[0] for s in show if s in SHOW_CHOICES))
    return f"{expires}.{shown or '-'}.{_qr_mac(licence.identifier, expires, shown or '-')}"


def read_qr_token(identifier: str, token: str, *, now: float | None = None) -> tuple[set[str] | None, str | None]:
    """(what the holder shows, None) for a good token, else (None, a Chinese reason)."""
    try:
        expires_s, shown, mac = token.split(".")
        expires = int(expires_s)
    except ValueError:
        return None, _("二维码无效。")
    if not _constant_eq(mac, _qr_mac(identifier, expires, shown)):
        return None, _("二维码无效或已被改动。")
    if expires < (now or time.time()):
        return None, _("二维码已过期，请持证人刷新后重新出示。")
    by_initial = {s[0]: s for s in SHOW_CHOICES}
    return {by_initial[c] for c in shown if c in by_initial}, None


def _constant_eq(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())
