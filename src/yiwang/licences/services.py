"""Every change to the licence library: issue (同步签发 or by a department), change, suspend, resume,
revoke, renew, expire, remind, and the holder's consent to reuse a licence (用证).

Each public function runs in one transaction, locks the licence row it changes
(``select_for_update``) before it checks the state, and appends the licence's audit event. A change
or a renewal never edits a sealed version: it seals a new version and marks the old one superseded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.forms_schema import display_value
from yiwang.core import audit
from yiwang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yiwang.core.ids import mask_citizen_id, validate_citizen_id, validate_uscc
from yiwang.core.keys import active_key
from yiwang.core.notify import notify
from yiwang.core.sm import blind_index, sm3_hex
from yiwang.identity.models import AgentAuthorization, Department, LegalPerson, NaturalPerson, StaffRole

from .models import HolderCodeType, HolderKind, Licence, LicenceCounter, LicenceType, LicenceUse
from .seal import Sealer, canonical, format_serial, make_identifier, payload_of

REMIND_DAYS = 30
MAX_REASON = 500


# --- holders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """持证主体: a name and a code (citizen ID 111 or credit code 001), linked to our records if known."""

    name: str
    code: str
    code_type: str
    person: NaturalPerson | None = None
    organisation: LegalPerson | None = None

    @classmethod
    def of(cls, party: NaturalPerson | LegalPerson) -> Holder:
        if isinstance(party, NaturalPerson):
            return cls(party.name, party.id_number, HolderCodeType.CITIZEN_ID, person=party)
        return cls(party.name, party.uscc, HolderCodeType.USCC, organisation=party)

    @classmethod
    def from_code(cls, name: str, code: str, code_type: str) -> Holder:
        """A holder named by code (an import row), the code validated; the importer links the people
        and organisations we know for a whole chunk at once."""
        name = (name or "").strip()
        if not name:
            raise InvalidInput(_("请填写持证主体名称。"), field="holder")
        if code_type == HolderCodeType.CITIZEN_ID:
            return cls(name, validate_citizen_id(code, field="holder_code"), code_type)
        if code_type == HolderCodeType.USCC:
            return cls(name, validate_uscc(code, field="holder_code"), code_type)
        raise InvalidInput(
            _("持证主体代码类型应为 111（身份证）或 001（统一社会信用代码）。"), field="holder_code_type"
        )

    @property
    def digest(self) -> str:
        return blind_index(self.code)

    @property
    def masked(self) -> str:
        return mask_citizen_id(self.code) if self.code_type == HolderCodeType.CITIZEN_ID else self.code


def holder_digests_of(person: NaturalPerson | None, *, today: dt.date | None = None) -> list[str]:
    """The wallet keys of a person: their own ID number and the organisations they act for today."""
    if person is None:
        return []
    today = today or timezone.localdate()
    orgs = (
        AgentAuthorization.objects.filter(person=person)
        .exclude(valid_from__gt=today)
        .exclude(valid_until__lt=today)
        .values_list("organisation__uscc", flat=True)
    )
    return [person.id_digest, *(blind_index(uscc) for uscc in orgs)]


def is_holder(user, licence: Licence) -> bool:
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    return licence.holder_digest in holder_digests_of(person)


def issuer_staff_departments(user) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(StaffRole.objects.filter(user=user).values_list("department_id", flat=True))


def _check_issuer_staff(actor, licence: Licence) -> None:
    """Staff actions need a role in the issuing department; ``None`` or a string is the system."""
    if actor is None or isinstance(actor, str):
        return
    if licence.issuer_id not in issuer_staff_departments(actor):
        raise Forbidden(_("只有颁发机构的工作人员可以办理此操作。"))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写理由。"), field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("理由不能超过%(n)d个字。") % {"n": MAX_REASON}, field="reason")
    return reason


# --- the licence catalogue --------------------------------------------------------------------


def save_licence_type(licence_type: LicenceType, *, actor) -> LicenceType:
    """Create or change a licence type (证照目录). Licences already issued keep what they were sealed
    with; the type's fields and validity apply to licences issued from now on."""
    licence_type.full_clean()
    with transaction.atomic():
        created = licence_type.pk is None
        licence_type.save()
        audit.record(
            licence_type,
            "licence_type.created" if created else "licence_type.changed",
            actor=actor,
            role="administrator",
            data={
                "code": licence_type.code, "name": licence_type.name, "holder_kind": licence_type.holder_kind,
                "validity_years": licence_type.validity_years, "fields": licence_type.fields,
                "active": licence_type.active,
            },
        )  # fmt: skip
    return licence_type


# --- issuing ----------------------------------------------------------------------------------


def add_years(start: dt.date, years: int) -> dt.date:
    """The last day of a validity of ``years`` years starting on ``start`` (2025-03-01 → 2030-02-28)."""
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28) + dt.timedelta(days=1)
    return end - dt.timedelta(days=1)


def clean_data(licence_type: LicenceType, data: dict[str, Any]) -> dict[str, str]:
    """Keep the type's fields only (the licence carries what its type defines, nothing else), as text."""
    cleaned: dict[str, str] = {}
    missing = []
    for spec in licence_type.fields:
        value = data.get(spec["name"])
        if isinstance(value, bool):
            value = _("是") if value else _("否")
        elif isinstance(value, list | tuple):
            value = "、".join(str(v) for v in value)
        value = "" if value is None else str(value).strip()
        if value:
            cleaned[spec["name"]] = value
        elif spec.get("required"):
            missing.append(spec["label"])
    if missing:
        raise InvalidInput(
            _("缺少照面信息：%(f)s。") % {"f": "、".join(missing)}, field="data", errors={"data": missing}
        )
    return cleaned


def allocate_serials(licence_type: LicenceType, issuer: Department, count: int = 1) -> int:
    """Reserve ``count`` consecutive serials of ``licence_type`` in the issuer's region and return the
    first. The counter row stays locked until the caller's transaction ends."""
    counter, _created = LicenceCounter.objects.get_or_create(licence_type=licence_type, region_code=issuer.region_code)
    counter = LicenceCounter.objects.select_for_update().get(pk=counter.pk)
    LicenceCounter.objects.filter(pk=counter.pk).update(last_serial=F("last_serial") + count)
    return counter.last_serial + 1


def make_number(licence_type: LicenceType, issuer: Department, serial: int) -> str:
    """证照编号 = prefix + the issuer's region code + serial: unique per type, since serials are."""
    return f"{licence_type.number_prefix}{issuer.region_code}{format_serial(serial)}"


def next_free_serial(licence_type: LicenceType, issuer: Department) -> int:
    """A serial whose generated number is not taken (imported historical numbers may use the pattern)."""
    while True:
        serial = allocate_serials(licence_type, issuer)
        if not Licence.objects.filter(
            licence_type=licence_type, number=make_number(licence_type, issuer, serial)
        ).exists():
            return serial


def seal(licence: Licence, sealer: Sealer) -> None:
    """Sign the licence as its fields stand (sets key id, time, payload, hash and signature)."""
    licence.key_id = sealer.key_id
    licence.signed_at = sealer.signing_time()  # refuses a time outside the key's validity
    payload = canonical(payload_of(licence))
    licence.signature = sealer.sign(payload)
    licence.payload = payload.decode("utf-8")
    licence.payload_hash = sm3_hex(payload)


def sealer_for(issuer: Department) -> Sealer:
    """The issuing department's active key (its 电子印章), created on first use."""
    return Sealer(active_key(issuer.credit_code))


def build_licence(
    *,
    licence_type: LicenceType,
    issuer: Department,
    holder: Holder,
    data: dict[str, Any],
    serial: int,
    sealer: Sealer,
    issue_date: dt.date,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    region_code: str = "",
    number: str = "",
    version: int = 1,
    origin: str = Licence.Origin.MANUAL,
    case_id: int | None = None,
    case_number: str = "",
    status: str = Licence.Status.VALID,
) -> Licence:
    """An unsaved, sealed licence (shared by issuing and the bulk importer, which saves in batches)."""
    if holder.code_type not in licence_type.holder_code_types:
        expected = HolderKind(licence_type.holder_kind).label
        raise InvalidInput(_("%(t)s的持证主体应为%(k)s。") % {"t": licence_type.name, "k": expected}, field="holder")
    region_code = region_code or issuer.region_code
    valid_from = valid_from or issue_date
    if valid_until is None and licence_type.validity_years:
        valid_until = add_years(valid_from, licence_type.validity_years)
    if valid_until is not None and valid_until < valid_from:
        raise InvalidInput(_("有效期截止日期不能早于起始日期。"), field="valid_until")
    licence = Licence(
        identifier=make_identifier(licence_type.code, issuer.credit_code, serial, version),
        licence_type=licence_type,
        name=licence_type.name,
        type_code=licence_type.code,
        number=number or make_number(licence_type, issuer, serial),
        serial=serial,
        version=version,
        issuer=issuer,
        issuer_name=issuer.name,
        issuer_code=issuer.credit_code,
        issue_date=issue_date,
        holder_name=holder.name,
        holder_code=holder.code,
        holder_code_type=holder.code_type,
        holder_digest=holder.digest,
        holder_masked=holder.masked,
        holder_person=holder.person,
        holder_org=holder.organisation,
        valid_from=valid_from,
        valid_until=valid_until,
        region_code=region_code,
        data=clean_data(licence_type, data),
        status=status,
        origin=origin,
        case_id=case_id,
        case_number=case_number,
    )
    seal(licence, sealer)
    return licence


def _summary(licence: Licence) -> dict[str, Any]:
    """What an audit event says about a version (no personal ID numbers in the audit trail)."""
    return {
        "identifier": licence.identifier,
        "number": licence.number,
        "version": licence.version,
        "holder": licence.holder_masked,
        "valid_from": licence.valid_from,
        "valid_until": licence.valid_until,
        "key_id": licence.key_id,
        "payload_hash": licence.payload_hash,
        "status": licence.status,
    }


def issue_licence(
    *,
    licence_type: LicenceType | str,
    issuer: Department,
    holder: Holder | NaturalPerson | LegalPerson,
    data: dict[str, Any],
    actor=None,
    issue_date: dt.date | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    region_code: str = "",
    case_id: int | None = None,
    case_number: str = "",
    origin: str = Licence.Origin.MANUAL,
) -> Licence:
    """Issue and seal a new licence (version 001) in the issuer's name.

    ``actor`` is the staff member (checked against the issuer) or ``None`` for the system (同步签发).
    """
    if isinstance(licence_type, str):
        licence_type = LicenceType.objects.filter(code=licence_type, active=True).first() or _no_type(licence_type)
    if not isinstance(holder, Holder):
        holder = Holder.of(holder)
    if actor is not None and not isinstance(actor, str) and issuer.pk not in issuer_staff_departments(actor):
        raise Forbidden(_("只有颁发机构的工作人员可以签发证照。"))
    issue_date = issue_date or timezone.localdate()
    with transaction.atomic():
        serial = next_free_serial(licence_type, issuer)
        licence = build_licence(
            licence_type=licence_type,
            issuer=issuer,
            holder=holder,
            data=data,
            serial=serial,
            sealer=sealer_for(issuer),
            issue_date=issue_date,
            valid_from=valid_from,
            valid_until=valid_until,
            region_code=region_code,
            origin=origin,
            case_id=case_id,
            case_number=case_number,
        )
        licence.save(force_insert=True)
        audit.record(
            licence,
            "licence.issued",
            actor=actor,
            role="issuer" if actor else "system",
            data={**_summary(licence), "origin": origin, "case": case_number},
        )
    return licence


def _no_type(code: str):
    raise NotFound(_("证照类型 %(c)s 未在证照目录中登记或已停用。") % {"c": code}, field="licence_type")


def _lock(licence: Licence | str) -> Licence:
    identifier = licence if isinstance(licence, str) else licence.identifier
    locked = Licence.objects.select_for_update().filter(identifier=identifier).first()
    if locked is None:
        raise NotFound(_("未找到该证照。"))
    return locked


def _new_version(old: Licence, *, actor, reason: str, origin: str, **changes: Any) -> Licence:
    """Seal version n+1 from ``old`` with ``changes`` and mark ``old`` superseded (caller holds the lock)."""
    today = timezone.localdate()
    holder = Holder(
        changes.pop("holder_name", old.holder_name),
        old.holder_code,
        old.holder_code_type,
        person=old.holder_person,
        organisation=old.holder_org,
    )
    new = build_licence(
        licence_type=old.licence_type,
        issuer=old.issuer,
        holder=holder,
        data=changes.pop("data", old.data),
        serial=old.serial,
        sealer=sealer_for(old.issuer),
        issue_date=today,
        valid_from=changes.pop("valid_from", old.valid_from),
        valid_until=changes.pop("valid_until", old.valid_until),
        region_code=old.region_code,
        number=old.number,
        version=old.version + 1,
        origin=origin,
        case_id=old.case_id,
        case_number=old.case_number,
        status=changes.pop("status", Licence.Status.VALID),
    )
    new.previous = old
    before = old.status
    old.status = Licence.Status.SUPERSEDED
    old.status_reason = reason
    old.status_changed_at = timezone.now()
    old.save(update_fields=["status", "status_reason", "status_changed_at"])
    new.save(force_insert=True)
    audit.record(
        old,
        "licence.superseded",
        actor=actor,
        role="issuer" if actor else "system",
        data={"before": {"status": before}, "after": {"status": old.status}, "status": old.status,
              "reason": reason, "next": new.identifier},
    )  # fmt: skip
    audit.record(
        new,
        f"licence.{origin}",
        actor=actor,
        role="issuer" if actor else "system",
        data={**_summary(new), "reason": reason, "previous": old.identifier},
    )
    return new


def change_licence(
    licence: Licence | str,
    *,
    actor,
    reason: str,
    data: dict[str, Any] | None = None,
    holder_name: str | None = None,
) -> Licence:
    """变更: seal a new version with changed 照面信息 (and/or holder name) and supersede the old one."""
    reason = _reason(reason)
    with transaction.atomic():
        old = _lock(licence)
        _check_issuer_staff(actor, old)
        if old.status not in (Licence.Status.VALID, Licence.Status.SUSPENDED):
            raise Conflict(_("证照当前状态为“%(s)s”，不能变更。") % {"s": old.get_status_display()})
        changes: dict[str, Any] = {}
        if data is not None:
            changes["data"] = {**old.data, **data}
        if holder_name is not None and holder_name.strip():
            changes["holder_name"] = holder_name.strip()
        if not changes or all(
            (k == "data" and v == old.data) or (k == "holder_name" and v == old.holder_name) for k, v in changes.items()
        ):
            raise InvalidInput(_("没有需要变更的内容。"), field="data")
        # a suspended licence stays suspended in its new version
        return _new_version(old, actor=actor, reason=reason, origin=Licence.Origin.CHANGE, status=old.status, **changes)


def renew_licence(licence: Licence | str, *, actor, reason: str, valid_until: dt.date | None = None) -> Licence:
    """延续: seal a new version whose validity follows on from the old one (or starts today if lapsed)."""
    reason = _reason(reason)
    today = timezone.localdate()
    with transaction.atomic():
        old = _lock(licence)
        _check_issuer_staff(actor, old)
        if old.status not in (Licence.Status.VALID, Licence.Status.EXPIRED):
            raise Conflict(_("证照当前状态为“%(s)s”，不能延续。") % {"s": old.get_status_display()})
        if old.valid_until is None:
            raise Conflict(_("该证照长期有效，无需延续。"))
        start = max(old.valid_until + dt.timedelta(days=1), today) if old.valid_until >= today else today
        years = old.licence_type.validity_years
        if valid_until is None:
            if not years:
                raise InvalidInput(_("请填写新的有效期截止日期。"), field="valid_until")
            valid_until = add_years(start, years)
        if valid_until <= old.valid_until or valid_until < start:
            raise InvalidInput(_("新的有效期截止日期应晚于原截止日期。"), field="valid_until")
        return _new_version(
            old, actor=actor, reason=reason, origin=Licence.Origin.RENEWAL, valid_from=start, valid_until=valid_until
        )


def _set_status(
    licence: Licence | str, new_status: str | Callable[[Licence], str], *, allowed: tuple[str, ...], action: str,
    actor, reason: str,
) -> Licence:  # fmt: skip
    reason = _reason(reason)
    with transaction.atomic():
        locked = _lock(licence)
        _check_issuer_staff(actor, locked)
        if locked.status not in allowed:
            raise Conflict(
                _("证照当前状态为“%(s)s”，不能%(a)s。")
                % {"s": locked.get_status_display(), "a": ACTION_LABELS.get(action, action)}
            )
        before = locked.status
        if callable(new_status):
            new_status = new_status(locked)
        locked.status = new_status
        locked.status_reason = reason
        locked.status_changed_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "status_changed_at"])
        audit.record(
            locked,
            f"licence.{action}",
            actor=actor,
            role="issuer" if actor else "system",
            data={
                "before": {"status": before},
                "after": {"status": new_status},
                "status": new_status,
                "reason": reason,
            },
        )
    return locked


ACTION_LABELS = {"suspended": _("暂扣"), "resumed": _("恢复"), "revoked": _("撤销")}


def suspend_licence(licence: Licence | str, *, actor, reason: str) -> Licence:
    """暂扣: the licence stays genuine but is not valid until resumed."""
    return _set_status(
        licence,
        Licence.Status.SUSPENDED,
        allowed=(Licence.Status.VALID,),
        action="suspended",
        actor=actor,
        reason=reason,
    )


def resume_licence(licence: Licence | str, *, actor, reason: str) -> Licence:
    """恢复 a suspended licence (to expired if its validity ended meanwhile)."""

    def target(locked: Licence) -> str:
        lapsed = locked.valid_until is not None and locked.valid_until < timezone.localdate()
        return Licence.Status.EXPIRED if lapsed else Licence.Status.VALID

    return _set_status(
        licence, target, allowed=(Licence.Status.SUSPENDED,), action="resumed", actor=actor, reason=reason
    )


def revoke_licence(licence: Licence | str, *, actor, reason: str) -> Licence:
    """撤销 / 注销: final."""
    return _set_status(
        licence,
        Licence.Status.REVOKED,
        allowed=(Licence.Status.VALID, Licence.Status.SUSPENDED, Licence.Status.EXPIRED),
        action="revoked",
        actor=actor,
        reason=reason,
    )


# --- 同步签发 -------------------------------------------------------------------------------------


def _option_labels(form_schema: list, form_data: dict[str, Any]) -> dict[str, Any]:
    """Select fields carry option values in the case; the licence shows the option labels."""
    out = dict(form_data)
    for spec in form_schema or []:
        if spec.get("name") in out:
            out[spec["name"]] = display_value(spec, out[spec["name"]])
    return out


def issue_for_case(case) -> Licence | None:
    """Issue the licence that an approved case produces (once per case); None if its item has none.

    The holder is the applicant organisation for an organisation's licence type, else the applicant
    person; 照面信息 comes from the case's form data as the licence type defines it.
    """
    version = case.version
    if version.result_type != "licence" or not version.result_licence_type:
        return None
    existing = Licence.objects.filter(case_id=case.pk, version=1).first()
    if existing:
        return existing
    if case.decision != "approved":
        raise Conflict(_("办件未获准予，不能签发证照。"))
    licence_type = LicenceType.objects.filter(code=version.result_licence_type).first()
    if licence_type is None:
        _no_type(version.result_licence_type)
    # an organisation's case yields an organisation's licence where the type allows it
    by_organisation = licence_type.holder_kind == HolderKind.ORGANISATION or (
        licence_type.holder_kind == HolderKind.ANY and case.applicant_org is not None
    )
    party = case.applicant_org if by_organisation else case.applicant_person
    if party is None:
        raise Conflict(
            _("办件缺少%(k)s申请人，无法签发%(t)s。")
            % {"k": HolderKind(licence_type.holder_kind).label, "t": licence_type.name}
        )
    decided = timezone.localtime(case.decided_at).date() if case.decided_at else timezone.localdate()
    try:
        with transaction.atomic():
            return issue_licence(
                licence_type=licence_type,
                issuer=case.department,
                holder=party,
                data=_option_labels(version.form_schema, case.form_data or {}),
                issue_date=decided,
                region_code=case.region_code,
                case_id=case.pk,
                case_number=case.number or "",
                origin=Licence.Origin.CASE,
            )
    except IntegrityError:
        # a concurrent delivery of the same decision issued it first
        existing = Licence.objects.filter(case_id=case.pk, version=1).first()
        if existing is None:
            raise
        return existing


# --- expiry -----------------------------------------------------------------------------------


def expire_due_licences(today: dt.date | None = None) -> int:
    """Mark every valid licence whose validity ended before ``today`` expired. Returns the count."""
    today = today or timezone.localdate()
    ids = list(
        Licence.objects.filter(status=Licence.Status.VALID, valid_until__lt=today).values_list("identifier", flat=True)
    )
    done = 0
    for identifier in ids:
        with transaction.atomic():
            locked = Licence.objects.select_for_update().filter(identifier=identifier).first()
            if locked is None or locked.status != Licence.Status.VALID or locked.valid_until >= today:
                continue
            locked.status = Licence.Status.EXPIRED
            locked.status_reason = _("有效期已届满")
            locked.status_changed_at = timezone.now()
            locked.save(update_fields=["status", "status_reason", "status_changed_at"])
            audit.record(
                locked,
                "licence.expired",
                data={"before": {"status": "valid"}, "after": {"status": "expired"}, "status": "expired"},
            )
            done += 1
    return done


def holder_recipients(licence: Licence) -> list[tuple[Any, str]]:
    """(user or None, phone) to notify about a licence: the person, or the organisation's agents."""
    if licence.holder_code_type == HolderCodeType.CITIZEN_ID:
        person = licence.holder_person or NaturalPerson.objects.filter(id_digest=licence.holder_digest).first()
        return [(person.user, person.phone)] if person else []
    today = timezone.localdate()
    agents = (
        AgentAuthorization.objects.filter(organisation__uscc=licence.holder_code)
        .exclude(valid_until__lt=today)
        .select_related("person__user")
    )
    return [(a.person.user, a.person.phone) for a in agents]


def remind_expiring_licences(today: dt.date | None = None, days: int = REMIND_DAYS) -> int:
    """Tell holders once per licence that it expires within ``days`` days. Returns the count."""
    today = today or timezone.localdate()
    due = Licence.objects.filter(
        status=Licence.Status.VALID,
        valid_until__gte=today,
        valid_until__lte=today + dt.timedelta(days=days),
        expiry_reminded_at__isnull=True,
    ).values_list("identifier", flat=True)
    sent = 0
    for identifier in list(due):
        with transaction.atomic():
            locked = Licence.objects.select_for_update().filter(identifier=identifier).first()
            if locked is None or locked.expiry_reminded_at is not None:
                continue
            subject = _("证照即将到期")
            body = _("您的%(name)s（编号 %(number)s）将于 %(date)s 到期，请及时办理延续。") % {
                "name": locked.name,
                "number": locked.number,
                "date": locked.valid_until.isoformat(),
            }
            for user, phone in holder_recipients(locked):
                if user is not None or phone:
                    notify(user, subject, body, recipient=phone)
            locked.expiry_reminded_at = timezone.now()
            locked.save(update_fields=["expiry_reminded_at"])
            audit.record(locked, "licence.expiry_reminded", data={"valid_until": locked.valid_until})
            sent += 1
    return sent


# --- 用证 ---------------------------------------------------------------------------------------


def licence_summary(licence: Licence) -> dict[str, Any]:
    """What a reviewing department sees inline for a reused licence (holder code masked)."""
    labels = licence.licence_type.field_labels()
    return {
        "identifier": licence.identifier,
        "name": licence.name,
        "number": licence.number,
        "issuer": licence.issuer_name,
        "issue_date": licence.issue_date.isoformat(),
        "holder": licence.holder_name,
        "holder_code": licence.holder_masked,
        "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "status": licence.status,
        "data": {labels.get(k, k): v for k, v in licence.data.items()},
    }


def effective_status(licence: Licence, today: dt.date | None = None) -> str:
    """The status as of today, even before the nightly sweep has caught up with an expiry."""
    today = today or timezone.localdate()
    if licence.status == Licence.Status.VALID and licence.valid_until and licence.valid_until < today:
        return Licence.Status.EXPIRED
    return licence.status


def record_use(
    licence: Licence | str, *, department: Department, case_number: str, actor, case_id: int | None = None,
    material_name: str = "", at_window: bool = False,
) -> LicenceUse:  # fmt: skip
    """用证: the holder (or an agent of the holding organisation) consents that ``department`` uses the
    licence for one case. ``at_window``: the caller has checked that the holder is the case's applicant,
    so a window clerk may record the consent given in person. Raises Conflict if no longer valid."""
    with transaction.atomic():
        locked = _lock(licence)
        by_user = actor is not None and not isinstance(actor, str)
        if by_user and not is_holder(actor, locked) and not (at_window and issuer_staff_departments(actor)):
            raise Forbidden(_("只有持证人（或其经办人）可以授权使用该证照。"))
        if effective_status(locked) != Licence.Status.VALID:
            raise Conflict(
                _("%(name)s（%(number)s）当前状态为“%(s)s”，不能用于办件，请上传其他材料。")
                % {"name": locked.name, "number": locked.number, "s": Licence.Status(effective_status(locked)).label}
            )
        use = LicenceUse.objects.create(
            licence=locked,
            department=department,
            case_id=case_id,
            case_number=case_number,
            material_name=material_name,
            purpose=_("办件 %(n)s") % {"n": case_number or f"#{case_id}"},
            granted_by=actor if actor is not None and not isinstance(actor, str) else None,
        )
        audit.record(
            locked,
            "licence.used",
            actor=actor,
            role="holder",
            data={"department": department.credit_code, "case": case_number, "material": material_name},
        )
    return use
