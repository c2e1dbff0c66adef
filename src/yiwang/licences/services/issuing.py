"""The licence catalogue and issuing: serials and numbers, sealing, issuing by a department and
同步签发 (an approved case issues its licence at once)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.forms_schema import display_value
from yiwang.core import audit
from yiwang.core.errors import Conflict, Forbidden, InvalidInput
from yiwang.core.keys import active_key
from yiwang.core.sm import sm3_hex
from yiwang.identity.models import Department, LegalPerson, NaturalPerson

from ..models import HolderKind, Licence, LicenceCounter, LicenceType
from ..seal import Sealer, canonical, format_serial, make_identifier, payload_of
from ._base import _no_type
from .holders import (
    Holder,
    issuer_staff_departments,
)


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
            value = _("、").join(str(v) for v in value)
        value = "" if value is None else str(value).strip()
        if value:
            cleaned[spec["name"]] = value
        elif spec.get("required"):
            missing.append(spec["label"])
    if missing:
        raise InvalidInput(
            _("缺少照面信息：%(f)s。") % {"f": _("、").join(missing)}, field="data", errors={"data": missing}
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


def licence_terms(
    licence_type: LicenceType,
    holder: Holder,
    data: dict[str, Any],
    issue_date: dt.date,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> tuple[dict[str, str], dt.date, dt.date | None]:
    """(照面信息, valid from, valid until) of a licence of ``licence_type`` as it would be sealed, or the
    reason it cannot be: the checks of ``build_licence``, which the importer runs on every row of a
    file before it writes anything."""
    if holder.code_type not in licence_type.holder_code_types:
        expected = HolderKind(licence_type.holder_kind).label
        raise InvalidInput(_("%(t)s的持证主体应为%(k)s。") % {"t": licence_type.name, "k": expected}, field="holder")
    valid_from = valid_from or issue_date
    if valid_until is None and licence_type.validity_years:
        valid_until = add_years(valid_from, licence_type.validity_years)
    if valid_until is not None and valid_until < valid_from:
        raise InvalidInput(_("有效期截止日期不能早于起始日期。"), field="valid_until")
    return clean_data(licence_type, data), valid_from, valid_until


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
    data, valid_from, valid_until = licence_terms(licence_type, holder, data, issue_date, valid_from, valid_until)
    region_code = region_code or issuer.region_code
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
        data=data,
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
