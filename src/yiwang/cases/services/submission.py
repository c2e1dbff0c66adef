"""Applying: drafts (save, drop a material, delete), the online submission, the window intake (综窗) of any item of
any department, case numbers (办件编号) and idempotent retries.

Locking contract: a draft is locked (``_lock``) before it is changed or submitted. The daily number
counter of the item is locked in ``allocate_number`` as late as possible and held until the
submission commits: concurrent submissions of one item queue there, different items never wait for
each other. An idempotency key is unique per user: of two racing requests with the same key one
commits, the other rolls back (its files deleted) and answers with the first one's case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog import selectors as catalog_selectors
from yiwang.catalog.forms_schema import typed_form_data
from yiwang.catalog.models import ItemVersion, MaterialRequirement, ServiceItem, ServiceObject
from yiwang.core import audit, calendar
from yiwang.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge, YiwangError
from yiwang.core.ids import validate_citizen_id, validate_uscc
from yiwang.core.sm import sm3_hex
from yiwang.identity import services as identity_services
from yiwang.identity.models import LegalPerson, NaturalPerson, StaffRole

from .. import clock, selectors
from ..models import Case, CaseNumberSequence, Channel, DeliveryMethod, IdempotencyKey, Status
from ._base import APPLICANT, Role, _lock, _record, _state_error, _writing
from .intake import _accept
from .materials import (
    _put_materials,
    _replace_material,
    _use_offers,
    current_materials,
    missing_materials,
    validate_form,
)


def allocate_number(code: str, day) -> str:
    """办件编号 = 实施编码 + yyyyMMdd + 4-digit daily sequence (more digits after 9999).

    The (code, day) counter row is created if missing (insert-or-ignore, safe when two transactions
    race to create it) and then locked, so concurrent submissions queue on it and never share a number.
    Call inside the submitting transaction, as late as possible: the lock is held until it commits.
    """
    CaseNumberSequence.objects.bulk_create([CaseNumberSequence(code=code, day=day, last=0)], ignore_conflicts=True)
    counter = CaseNumberSequence.objects.select_for_update().get(code=code, day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{code}{day:%Y%m%d}{counter.last:04d}"


def _item(item: ServiceItem | int | str) -> ServiceItem:
    if not isinstance(item, ServiceItem):
        by_pk = isinstance(item, int) or (str(item).isdigit() and len(str(item)) < 12)
        lookup = {"pk": int(item)} if by_pk else {"code": str(item).strip()}
        item = ServiceItem.objects.filter(**lookup).first()
        if item is None:
            raise NotFound(_("未找到该事项。"))
    return item


def _current_version(item: ServiceItem | int | str) -> ItemVersion:
    version = _item(item).current_version
    if version is None:
        raise Conflict(_("该事项暂无有效的实施清单，暂不能申报。"))
    return version


def acting_organisation(user, applicant_org) -> LegalPerson | None:
    """The organisation (LegalPerson or credit code) the user applies for; Forbidden without authorisation."""
    if applicant_org in (None, ""):
        return None
    if isinstance(applicant_org, LegalPerson):
        org = applicant_org
    else:
        org = LegalPerson.objects.filter(uscc=validate_uscc(str(applicant_org), field="applicant_org")).first()
        if org is None:
            raise NotFound(_("未找到该单位。"), field="applicant_org")
    if not selectors.acting_organisation_ids(user).filter(organisation_id=org.pk).exists():
        raise Forbidden(_("您未获授权代表该单位办理。"), field="applicant_org")
    return org


def _check_service_object(version: ItemVersion, org: LegalPerson | None) -> None:
    if version.service_object == ServiceObject.ORGANISATION and org is None:
        raise InvalidInput(_("该事项须以单位名义申请，请选择申请单位。"), field="applicant_org")
    if version.service_object == ServiceObject.PERSON and org is not None:
        raise InvalidInput(_("该事项只能由个人申请。"), field="applicant_org")


def _set_delivery(case: Case, method: str | None, address: str | None) -> None:
    if method:
        if method not in DeliveryMethod.values:
            raise InvalidInput(_("送达方式无效。"), field="delivery_method")
        case.delivery_method = method
    if address is not None:
        case.delivery_address = address.strip()[:200]
    if case.delivery_method == DeliveryMethod.POST and not case.delivery_address:
        raise InvalidInput(_("选择邮寄送达时请填写邮寄地址。"), field="delivery_address")


def _new_online_case(user, item, applicant_org) -> Case:
    version = catalog_selectors.online_version(_item(item))
    person = selectors.person_of(user)
    if person is None:
        raise Forbidden(_("请先完成实名认证后再申报。"))
    org = acting_organisation(user, applicant_org)
    _check_service_object(version, org)
    return Case(
        version=version,
        item=version.item,
        department=version.item.department,
        region_code=version.item.region_code,
        applicant_person=None if org else person,
        applicant_org=org,
        agent=person if org else None,
        submitted_by=user,
        channel=Channel.ONLINE,
        status=Status.DRAFT,
    )


def _set_applicant(draft: Case, user, applicant_org: LegalPerson | str | None) -> None:
    """Apply a draft's changed applicant (``None``: unchanged, ``""``: the person themself) with the checks
    of a new application: a real-name person, entitled to act for the organisation, the item's service
    object."""
    if applicant_org is None:
        return
    person = selectors.person_of(user)
    if person is None:
        raise Forbidden(_("请先完成实名认证后再申报。"))
    draft.applicant_org = acting_organisation(user, applicant_org)
    draft.agent = person if draft.applicant_org else None
    draft.applicant_person = None if draft.applicant_org else person
    _check_service_object(draft.version, draft.applicant_org)


def _own_draft(user, case: Case | int, *, editing: bool = False) -> Case:
    """The user's draft, locked. ``editing`` (saving, submitting): its version must still take online
    applications — a draft of a retired or superseded version can only be dropped or deleted."""
    locked = _lock(case)
    if locked.status != Status.DRAFT or locked.submitted_by_id != getattr(user, "pk", None):
        if locked.status == Status.DRAFT or not selectors.visible_cases(user).filter(pk=locked.pk).exists():
            raise NotFound(_("未找到该办件。"))
        raise _state_error(locked, _("修改"))
    if editing and not catalog_selectors.can_apply_online(locked.version):
        raise Conflict(
            _(
                "该草稿所依据的事项版本已不再受理网上申报（已停用、已被新版本取代或改为窗口办理），请删除草稿后重新申请。"
            )
        )
    return locked


def save_draft(
    user,
    *,
    item: ServiceItem | int | str | None = None,
    case: Case | int | None = None,
    form_data: Mapping | None = None,
    files: Mapping | None = None,
    offers: Mapping | None = None,
    applicant_org: LegalPerson | str | None = None,
    delivery_method: str | None = None,
    delivery_address: str | None = None,
) -> Case:
    """Create (``item``) or update (``case``, the user's own draft) a draft application.

    Nothing is required yet, but uploads are checked by content as they arrive. ``form_data`` replaces
    the stored form when given; ``files`` maps requirement id → file and replaces that material;
    ``offers`` maps requirement id → offer reference (from ``material_sources.offers_for``).
    """
    with _writing() as written:
        if case is not None:
            draft = _own_draft(user, case, editing=True)
            before = Status.DRAFT
            _set_applicant(draft, user, applicant_org)
        elif item is not None:
            draft = _new_online_case(user, item, applicant_org)
            before = ""
        else:
            raise InvalidInput(_("请选择要申报的事项。"), field="item")
        if form_data is not None:
            draft.form_data = typed_form_data(draft.version.form_schema or [], form_data)
        if delivery_method or delivery_address is not None:
            draft.delivery_method = delivery_method or draft.delivery_method
            draft.delivery_address = (delivery_address or "").strip()[:200]
        draft.save()
        _put_materials(draft, user, files, offers, written)
        _record(draft, "draft_saved", actor=user, role=APPLICANT, before=before)
        return draft


def remove_draft_material(user, case: Case | int, requirement: MaterialRequirement | int) -> Case:
    """Drop what the user's draft carries for one material: the uploaded file (deleted on commit) or the
    chosen offer of a licence / shared data (no consent was recorded yet: that happens at submission).

    Idempotent: a material the draft does not carry (e.g. removed by an earlier click) changes nothing
    and records nothing. A removal is audited like the other draft edits."""
    with transaction.atomic():
        draft = _own_draft(user, case)
        req_id = getattr(requirement, "pk", requirement)
        found = draft.version.materials.filter(pk=req_id).first() if str(req_id).isdigit() else None
        if found is None:
            raise NotFound(_("该事项没有编号为 %(k)s 的材料。") % {"k": req_id}, field="requirement")
        material = draft.materials.filter(requirement=found, round=draft.submission_round).first()
        if material is None:
            return draft
        _replace_material(draft, found, user)
        draft.save(update_fields=["updated_at"])
        _record(
            draft,
            "draft_material_removed",
            actor=user,
            role=APPLICANT,
            before=Status.DRAFT,
            requirement=found.pk,
            material=found.name,
            satisfied_by=material.satisfied_by,
            reference=material.sm3 or material.source_reference,
        )
        return draft


def delete_draft(user, case: Case | int) -> None:
    """Discard the user's own draft with its files."""
    with transaction.atomic():
        draft = _own_draft(user, case)
        names = [m.file.name for m in draft.materials.all() if m.file]
        IdempotencyKey.objects.filter(case=draft).delete()
        draft.delete()
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


def _submit(case: Case, user, role: str, before: str, now, have: Mapping[int, Any]) -> None:
    """Shared end of every submission: number, acceptance clock, event. ``have``: the complete
    materials (``current_materials``), which the caller checked (``_check_materials``)."""
    today = timezone.localdate(now)
    person = case.applicant_person or case.agent
    case.applicant_id_last4 = case.applicant_org.uscc[-4:] if case.applicant_org_id else person.id_last4
    case.number = allocate_number(case.item.code, today)
    case.status = Status.SUBMITTED
    case.submitted_at = now
    case.received_on = today
    with calendar.pinned():  # one look at the calendar tables for both dates
        due = clock.acceptance_due(case, today)
        case.acceptance_due, case.acceptance_due_provisional = due.date, due.provisional
        case.yellow_on = clock.yellow_on(case)  # so that the sweep decides the warning in SQL
    case.save()
    _use_offers(case, user)
    _record(
        case,
        "submitted",
        actor=user,
        role=role,
        before=before,
        channel=case.channel,
        acceptance_due=due.date.isoformat(),
        materials={m.requirement_id: m.sm3 or m.source_reference for m in have.values()},
    )


def _fingerprint(**request: Any) -> str:
    """SM3 over what a submission asked for (uploads by name and size), to recognise a true retry."""
    files = request.pop("files", None) or {}
    request["files"] = sorted((str(k), getattr(f, "name", ""), getattr(f, "size", 0)) for k, f in files.items())
    request["offers"] = sorted((str(k), str(v)) for k, v in (request.get("offers") or {}).items())
    return sm3_hex(audit.canonical(request))


def _same_request(earlier: IdempotencyKey, fingerprint: str) -> Case:
    """The case an earlier request with this key created. The same key with a different request is
    refused: the client would otherwise believe its second application was filed."""
    if earlier.fingerprint and earlier.fingerprint != fingerprint:
        raise Conflict(
            _(
                "这一提交已用于另一份申请（办件 %(n)s），内容不同，未再次受理。"
                "如需新的申请，请重新打开申请页面（接口调用请使用新的 Idempotency-Key）。"
            )
            % {"n": earlier.case.number or earlier.case.pk},
            field="idempotency_key",
        )
    case = earlier.case
    case._replayed = True
    return case


def is_replay(case: Case) -> bool:
    """Whether ``submit_case`` / ``start_window_case`` answered with the case of an earlier request
    with the same idempotency key (HTTP 200) rather than creating it (201)."""
    return getattr(case, "_replayed", False)


def _earlier(user, key: str) -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(user=user, key=key).select_related("case").first()


def _idempotent(user, idempotency_key: str | None, fingerprint: str, create: Callable[..., Case]) -> Case:
    """Run ``create(remember, draft)`` once per (user, key): a retry — even one racing the first
    request — returns the case the first created. ``create`` calls ``remember(case)`` inside its
    transaction. When the first request failed but kept its uploads in a draft, the key names that
    draft: a retry continues it (``draft``) instead of opening a second application."""
    key = (idempotency_key or "").strip()[:200]
    if not key or not getattr(user, "pk", None):
        return create(lambda case: None, None)
    earlier = _earlier(user, key)
    pending = earlier if earlier is not None and earlier.case.status == Status.DRAFT else None
    if earlier is not None and pending is None:
        return _same_request(earlier, fingerprint)

    def remember(case: Case) -> None:
        if pending is not None:
            IdempotencyKey.objects.filter(pk=pending.pk).update(fingerprint=fingerprint, case=case)
            return
        IdempotencyKey.objects.create(
            user=user, key=key, fingerprint=fingerprint, case=case, region_code=case.region_code
        )

    try:
        return create(remember, pending.case_id if pending else None)
    except (IntegrityError, Conflict):
        # the racing request committed first (unique user+key, or it submitted the same draft); this
        # one rolled back
        found = _earlier(user, key)
        if found is not None and found.case.status != Status.DRAFT:
            return _same_request(found, fingerprint)
        raise


def _one_answer(problems: Mapping[str, YiwangError]) -> YiwangError:
    """Every problem of an application — form fields, delivery, materials — as one error (一次性告知):
    ``errors`` maps each field name to its message. A lone over-large file keeps its own status (413)."""
    if len(problems) == 1:
        (only,) = problems.values()
        if isinstance(only, TooLarge):
            return only
    errors = {name: exc.message for name, exc in problems.items()}
    return InvalidInput(
        _("申请有%(n)d处需要修改：%(e)s") % {"n": len(errors), "e": "；".join(errors.values())},
        field=next(iter(errors)) if len(errors) == 1 else None,
        errors=errors,
    )


def _problems_of(exc: YiwangError) -> dict[str, YiwangError]:
    if isinstance(exc.errors, dict) and exc.errors:
        return {str(k): InvalidInput(str(v), field=str(k)) for k, v in exc.errors.items()}
    return {exc.field or "non_field": exc}


def _check_fields(case: Case, form: Mapping, delivery: tuple) -> dict[str, YiwangError]:
    """Clean the form and the delivery choice onto ``case``; return their problems by field name."""
    problems: dict[str, YiwangError] = {}
    try:
        case.form_data = validate_form(case.version, form, case.agent or case.applicant_person)
    except InvalidInput as exc:
        problems.update(_problems_of(exc))
        # kept as typed, like a saved draft (without what is too long to keep: that is among the problems)
        case.form_data = typed_form_data(case.version.form_schema or [], dict(form), strict=False)
    try:
        _set_delivery(case, *delivery)
    except InvalidInput as exc:
        problems.update(_problems_of(exc))
    return problems


def _check_materials(
    case: Case, user, files, offers, written: list[str], *, fresh: bool
) -> tuple[dict[str, YiwangError], dict[int, Any]]:
    """Store the good uploads and offers of ``case`` (saved; ``fresh``: created in this transaction);
    return the bad and the missing ones, and the materials in force (``current_materials``)."""
    uploads: dict[str, YiwangError] = {}
    _put_materials(case, user, files, offers, written, collect=uploads, fresh=fresh)
    have = current_materials(case)
    missing = {k: InvalidInput(v, field=k) for k, v in missing_materials(case, have).items()}
    return {**missing, **uploads}, have


def _kept(case: Case) -> bool:
    return case.materials.filter(round=case.submission_round).exists()


def submit_case(
    user,
    *,
    item: ServiceItem | int | str | None = None,
    case: Case | int | None = None,
    form_data: Mapping | None = None,
    files: Mapping | None = None,
    offers: Mapping | None = None,
    applicant_org: LegalPerson | str | None = None,
    delivery_method: str | None = None,
    delivery_address: str | None = None,
    idempotency_key: str | None = None,
) -> Case:
    """Submit an online application: a new one for ``item``, or the user's draft ``case``.

    ``applicant_org`` (credit code or LegalPerson) applies for an organisation the user may act for; for
    a draft it replaces the draft's choice (``""``: the person themself, ``None``: keep the draft's).

    ``form_data`` (merged over the draft's) is validated against the version's form definition; every
    required material must be uploaded (checked by content) or satisfied by an offer — the offer's
    source records the holder's consent (``source.use``) inside this transaction. The case gets its
    number and ``submitted`` status; the acceptance clock starts.

    One answer names every problem (form fields, delivery, missing or bad materials: ``errors`` by
    field name). The good uploads of a failed submission are kept in the draft (a new draft when the
    application was new; its id is the error's ``extra["draft"]``), so the applicant does not choose
    them again; nothing is submitted and, when nothing was worth keeping, nothing is written.

    ``idempotency_key``: the same key from the same user returns the case created first, even when two
    retries race (the loser's transaction is rolled back and its files deleted); after a failure that
    kept a draft, the same key continues that draft.
    """
    fingerprint = _fingerprint(
        item=str(getattr(item, "pk", item)), case=str(getattr(case, "pk", case)), form_data=dict(form_data or {}),
        files=files, offers=offers, applicant_org=str(getattr(applicant_org, "pk", applicant_org)),
        delivery_method=delivery_method, delivery_address=delivery_address,
    )  # fmt: skip

    def create(remember: Callable[[Case], None], draft: int | None) -> Case:
        kept: Case | None = None
        with _writing() as written:
            now = timezone.now()
            existing = case if case is not None else draft
            if existing is not None:
                target = _own_draft(user, existing, editing=True)
                if (
                    item is not None
                    and case is None
                    and str(getattr(item, "pk", item))
                    not in (
                        str(target.item_id),
                        target.item.code,
                    )
                ):
                    raise Conflict(_("这一提交已用于另一份申请，请重新打开申请页面。"), field="idempotency_key")
                _set_applicant(target, user, applicant_org)
                merged = {**target.form_data, **dict(form_data or {})}
            elif item is not None:
                target = _new_online_case(user, item, applicant_org)
                merged = dict(form_data or {})
            else:
                raise InvalidInput(_("请选择要申报的事项。"), field="item")
            problems = _check_fields(target, merged, (delivery_method, delivery_address))
            target.save()
            remember(target)
            bad, have = _check_materials(target, user, files, offers, written, fresh=existing is None)
            problems.update(bad)
            if problems:
                error = _one_answer(problems)
                if existing is None and not _kept(target):
                    raise error  # nothing worth keeping: roll the new draft back
                _record(target, "draft_saved", actor=user, role=APPLICANT, before=Status.DRAFT if existing else "")
                kept = target
            else:
                _submit(target, user, APPLICANT, Status.DRAFT, now, have)
                return target
        # committed: the draft keeps the good uploads; the applicant hears every problem at once
        error.extra["draft"] = kept.pk
        raise error

    return _idempotent(user, idempotency_key, fingerprint, create)


def register_person(*, id_number: str, name: str = "", phone: str = "", address: str = "", clerk=None) -> NaturalPerson:
    """Find a natural person by ID number, or register them (window registration, by the identity
    services, which audit it with ``clerk`` as the actor). A known person's missing phone or address is
    filled in."""
    person = identity_services.find_person_by_id_number(validate_citizen_id(id_number, field="id_number"))
    if person is None:
        if not name.strip():
            raise InvalidInput(_("新登记的申请人须填写姓名。"), field="name")
        return identity_services.register_person(
            name=name, id_number=id_number, phone=phone, address=address, actor=clerk
        )
    missing = {k: v for k, v in (("phone", phone), ("address", address)) if v and not getattr(person, k)}
    if missing:
        person = identity_services.update_person(person, actor=clerk, **missing)
    return person


def _organisation_at_window(clerk, org_uscc: str, org_name: str) -> LegalPerson:
    uscc = validate_uscc(org_uscc, field="org_uscc")
    org = LegalPerson.objects.filter(uscc=uscc).first()
    if org is not None:
        return org
    if not org_name.strip():
        raise InvalidInput(_("新登记的单位须填写名称。"), field="org_name")
    return identity_services.register_legal_person(name=org_name, uscc=uscc, actor=clerk)


def start_window_case(
    clerk,
    *,
    item: ServiceItem | int | str,
    id_number: str,
    name: str = "",
    phone: str = "",
    address: str = "",
    org_uscc: str = "",
    org_name: str = "",
    form_data: Mapping | None = None,
    files: Mapping | None = None,
    offers: Mapping | None = None,
    delivery_method: str | None = None,
    delivery_address: str | None = None,
    accept: bool = False,
    idempotency_key: str | None = None,
) -> Case:
    """综窗: a window clerk (role window_clerk in any department) takes in an application for ANY item.

    Finds or registers the applicant by ID number (and the organisation by credit code, ``org_name``
    needed when new); the case is submitted on the channel "window" with the clerk recorded, and with
    ``accept=True`` accepted at once (same transaction, the receipt 受理回执 is produced).
    """
    if not StaffRole.objects.filter(user=clerk, role=Role.WINDOW_CLERK).exists():
        raise Forbidden(_("只有综窗受理员可以窗口收件。"))
    fingerprint = _fingerprint(
        item=str(getattr(item, "pk", item)), id_number=id_number, name=name, phone=phone, address=address,
        org_uscc=org_uscc, org_name=org_name, form_data=dict(form_data or {}), files=files, offers=offers,
        delivery_method=delivery_method, delivery_address=delivery_address, accept=accept,
    )  # fmt: skip

    def create(remember: Callable[[Case], None], _draft: int | None) -> Case:
        with _writing() as written:
            now = timezone.now()
            version = _current_version(item)
            person = register_person(id_number=id_number, name=name, phone=phone, address=address, clerk=clerk)
            org = _organisation_at_window(clerk, org_uscc, org_name) if org_uscc else None
            _check_service_object(version, org)
            case = Case(
                version=version,
                item=version.item,
                department=version.item.department,
                region_code=version.item.region_code,
                applicant_person=None if org else person,
                applicant_org=org,
                agent=person if org else None,
                submitted_by=clerk,
                clerk=clerk,
                channel=Channel.WINDOW,
                status=Status.DRAFT,
            )
            problems = _check_fields(case, dict(form_data or {}), (delivery_method, delivery_address))
            case.save()
            remember(case)
            bad, have = _check_materials(case, clerk, files, offers, written, fresh=True)
            problems.update(bad)
            if problems:
                raise _one_answer(problems)  # at the window nothing is kept: the clerk has the papers
            _submit(case, clerk, Role.WINDOW_CLERK, "", now, have)
            if accept:
                _accept(case, clerk, Role.WINDOW_CLERK, written, deemed=False)
            return case

    return _idempotent(clerk, idempotency_key, fingerprint, create)
