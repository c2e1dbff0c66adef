"""Every change of a case happens here: one function per use case, the explicit state machine.

States (``Case.status``) and the functions that move between them::

    (none) ─save_draft→ draft ─submit_case→ submitted          start_window_case (clerk) → submitted
    submitted ─accept_case / deem_accepted→ accepted  ─refuse_case→ refused
    submitted | accepted | in_review ─request_correction→ correction_requested ─resubmit_correction→ back
    accepted ─claim_task→ in_review ─pass_task / return_task→ in_review … ─decide→ approved | denied
    accepted | in_review ─start_special_procedure→ suspended ─end_special_procedure→ back
    approved | denied ─complete_case→ completed ─deliver→ delivered
    submitted … suspended ─withdraw→ withdrawn

Contract of every public function here:
- permission first: staff act only on cases of their department (or of a task of their department),
  window clerks also on the window cases they took in, applicants only on their own cases (incl.
  organisations they act for). A case the user may not see → ``NotFound``; a case they see but may not
  act on → ``Forbidden``.
- one transaction; the case row is locked (``select_for_update``) before its state is read, so that of
  two people acting at once exactly one succeeds and the other gets ``Conflict`` (HTTP 409) naming the
  state the case is now in.
- an invalid transition → ``Conflict`` with a Chinese message; bad input → ``InvalidInput`` naming the
  field (``errors`` maps form field names and ``material_<requirement id>`` to messages).
- each appends one audit event to the case's hash chain: action, actor, role, ``data`` with ``before``
  / ``after`` status, ``department`` (name, shown in timelines) and ``note`` (text for the applicant).
- the applicant is notified (``yiwang.core.notify``, sent on commit) on acceptance, refusal, correction
  request, special procedure, decision, completion and delivery; ``case_decided`` is sent once per
  decision on commit.
- files (uploads, generated PDFs) go through Django's storage; if the service fails, the files it
  wrote are deleted and no row remains.
- time comes from ``django.utils.timezone.now()`` (the demo back-dates by setting it, see demo.py).
"""

from __future__ import annotations

import io
import logging
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.forms_schema import validate_form_data
from yiwang.catalog.models import Handling, ItemVersion, MaterialRequirement, OnlineDepth, ServiceItem, ServiceObject
from yiwang.catalog.models import Stage as CatalogStage
from yiwang.core import audit
from yiwang.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from yiwang.core.ids import validate_citizen_id, validate_uscc
from yiwang.core.notify import notify
from yiwang.core.sm import sm3_hex
from yiwang.identity import services as identity_services
from yiwang.identity.models import LegalPerson, NaturalPerson, StaffRole

from .. import clock, documents, material_sources, selectors
from ..models import (
    OPEN_STATES,
    REVIEW_STATES,
    SPECIAL_PROCEDURE_KINDS,
    Case,
    CaseDocument,
    CaseMaterial,
    CaseNumberSequence,
    CaseTask,
    Channel,
    ClockPause,
    CorrectionRequest,
    Decision,
    Delivery,
    DeliveryMethod,
    Extension,
    IdempotencyKey,
    PauseKind,
    PaymentOrder,
    Status,
    WarningLevel,
)
from ..payments import DevPaymentProvider, get_provider
from ..signals import case_decided

log = logging.getLogger("yiwang.cases")
Role = StaffRole.Role

ACCEPT_ROLES = frozenset({Role.WINDOW_CLERK, Role.HANDLER, Role.REVIEWER, Role.APPROVER})
REVIEW_ROLES = frozenset({Role.HANDLER, Role.REVIEWER, Role.APPROVER})
APPLICANT = "applicant"
SYSTEM = "system"

# ---------------------------------------------------------------------------------------------
# Infrastructure: locking, permissions, files, events


@contextmanager
def _writing() -> Iterator[list[str]]:
    """One transaction; names of files written inside are deleted again if it fails."""
    written: list[str] = []
    try:
        with transaction.atomic():
            yield written
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise


def _lock(case: Case | int) -> Case:
    """The case row, locked for this transaction, read fresh (after any concurrent writer committed)."""
    pk = case.pk if isinstance(case, Case) else case
    locked = Case.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise NotFound(_("未找到该办件。"))
    return locked


def _state_error(case: Case, doing: str) -> Conflict:
    return Conflict(
        _("办件当前状态为“%(status)s”，不能%(doing)s。如页面不是最新，请刷新后查看。")
        % {"status": case.get_status_display(), "doing": doing}
    )


def _expect(case: Case, states, doing: str) -> None:
    if case.status not in states:
        raise _state_error(case, doing)


def _role_in(user, department_id: int, roles) -> str | None:
    return (
        StaffRole.objects.filter(user=user, department_id=department_id, role__in=list(roles))
        .order_by("role")
        .values_list("role", flat=True)
        .first()
    )


def _require_visible(user, case: Case) -> None:
    if not selectors.visible_cases(user).filter(pk=case.pk).exists():
        raise NotFound(_("未找到该办件。"))


def _as_applicant(user, case: Case) -> str:
    """The applicant (or agent acting for the applicant organisation) of ``case``; else NotFound."""
    if not selectors.is_applicant_of(user, case):
        _require_visible(user, case)
        raise Forbidden(_("只有申请人本人或其经办人可以办理此操作。"))
    return APPLICANT


def _as_staff(user, case: Case, roles=REVIEW_ROLES, *, clerk_may: bool = False) -> str:
    """The role under which ``user`` acts on ``case`` in its department; the window clerk who took the
    case in also may when ``clerk_may``. NotFound when the case is not theirs to see."""
    _require_visible(user, case)
    if clerk_may and case.channel == Channel.WINDOW and case.clerk_id == user.pk:
        return Role.WINDOW_CLERK
    role = _role_in(user, case.department_id, roles)
    if role is None:
        raise Forbidden(_("您在本部门没有办理此操作的岗位权限。"))
    return role


def _record(case: Case, action: str, *, actor, role: str, before: str, note: str = "", **data: Any) -> None:
    payload = {"before": before, "after": case.status, **data}
    payload.setdefault("department", case.department.name)
    if note:
        payload["note"] = note
    audit.record(case, action, actor=actor, role=role, data=payload)


def _applicant_contact(case: Case) -> tuple[Any, str]:
    for person in (case.applicant_person, case.agent):
        if person is not None and person.user_id:
            return person.user, person.phone
    if case.channel == Channel.ONLINE and case.submitted_by_id:
        return case.submitted_by, ""
    person = case.applicant_person or case.agent
    return None, person.phone if person else ""


def _notify_applicant(case: Case, subject: str, body: str) -> None:
    user, phone = _applicant_contact(case)
    if user is None and not phone:
        return
    notify(user, subject, f"【一网通办】{body}（办件编号 {case.number}）", recipient=phone)


def _now_and_today():
    now = timezone.now()
    return now, timezone.localdate(now)


# ---------------------------------------------------------------------------------------------
# Materials: checked by content, stored with their SM3 digest


@dataclass(frozen=True)
class CheckedUpload:
    data: bytes
    ext: str
    content_type: str
    sm3: str
    original_name: str


FORMAT_NAMES = {"pdf": "PDF", "jpg": "JPG", "png": "PNG", "ofd": "OFD"}
CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "ofd": "application/ofd"}


def sniff_format(data: bytes) -> str | None:
    """The real format of a file from its first bytes: pdf, jpg, png or ofd (a ZIP with OFD.xml at its root)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "OFD.xml" in archive.namelist():
                    return "ofd"
        except zipfile.BadZipFile:
            return None
    return None


def allowed_formats(requirement: MaterialRequirement) -> list[str]:
    wanted = []
    for token in requirement.formats.replace("，", ",").replace(" ", ",").lower().split(","):
        token = {"jpeg": "jpg"}.get(token.strip(" ."), token.strip(" ."))
        if token in FORMAT_NAMES and token not in wanted:
            wanted.append(token)
    return wanted or list(FORMAT_NAMES)


def check_upload(upload, requirement: MaterialRequirement) -> CheckedUpload:
    """Read an uploaded file (a Django File) and check its size and its real format, whatever its name says."""
    field = f"material_{requirement.pk}"
    limit = settings.YIWANG_MAX_UPLOAD_BYTES
    chunks, size = [], 0
    if hasattr(upload, "seek"):
        upload.seek(0)
    for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
        size += len(chunk)
        if size > limit:
            raise TooLarge(
                _("“%(name)s”文件过大，不能超过 %(mb).0f MB。") % {"name": requirement.name, "mb": limit / 1048576},
                field=field,
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise InvalidInput(_("“%(name)s”是空文件。") % {"name": requirement.name}, field=field)
    kind = sniff_format(data)
    allowed = allowed_formats(requirement)
    if kind not in allowed:
        raise InvalidInput(
            _("“%(name)s”须为 %(formats)s 格式，上传文件的内容不是这些格式。")
            % {"name": requirement.name, "formats": "/".join(FORMAT_NAMES[f] for f in allowed)},
            field=field,
        )
    return CheckedUpload(data, kind, CONTENT_TYPES[kind], sm3_hex(data), (getattr(upload, "name", "") or "")[-200:])


def _store_upload(case: Case, requirement: MaterialRequirement, checked: CheckedUpload, written: list[str]) -> str:
    path = (
        f"cases/{case.region_code}/{case.pk}/r{case.submission_round}-{requirement.pk}-{uuid.uuid4().hex}.{checked.ext}"
    )
    name = default_storage.save(path, ContentFile(checked.data))
    written.append(name)
    return name


def _requirements(version: ItemVersion) -> dict[int, MaterialRequirement]:
    return {m.pk: m for m in version.materials.all()}


def _requirement_key(key) -> int:
    text = str(key)
    if text.startswith("material_"):
        text = text[len("material_") :]
    if not text.isdigit():
        raise InvalidInput(_("材料编号无效：%(k)s") % {"k": key})
    return int(text)


def _put_materials(
    case: Case,
    user,
    files: Mapping | None,
    offers: Mapping | None,
    written: list[str],
) -> None:
    """Attach this round's uploads and chosen offers (requirement id → file / offer reference).

    An offer is only remembered here; ``_use_offers`` records the holder's consent when the round is
    submitted (after the case has its number)."""
    reqs = _requirements(case.version)
    errors: dict[str, str] = {}
    uploaded = {_requirement_key(k) for k, v in (files or {}).items() if v is not None}
    for key, upload in (files or {}).items():
        req_id = _requirement_key(key)
        if req_id not in reqs:
            raise InvalidInput(_("该事项没有编号为 %(k)s 的材料。") % {"k": req_id}, field=f"material_{req_id}")
        if upload is None:
            continue
        requirement = reqs[req_id]
        checked = check_upload(upload, requirement)
        _replace_material(case, requirement, user)
        CaseMaterial.objects.create(
            case=case,
            requirement=requirement,
            round=case.submission_round,
            file=_store_upload(case, requirement, checked, written),
            original_name=checked.original_name,
            sm3=checked.sm3,
            size=len(checked.data),
            content_type=checked.content_type,
            satisfied_by=CaseMaterial.SatisfiedBy.UPLOAD,
            uploaded_by=user if getattr(user, "pk", None) else None,
            region_code=case.region_code,
        )
    for key, reference in (offers or {}).items():
        req_id = _requirement_key(key)
        if req_id not in reqs or not reference:
            continue
        if req_id in uploaded:
            continue  # an upload given for the same material wins
        requirement = reqs[req_id]
        found = _find_offer(case, requirement, str(reference))
        if found is None:
            errors[f"material_{req_id}"] = _("所选的“%(name)s”来源已不可用，请重新选择或上传。") % {
                "name": requirement.name
            }
            continue
        _source, offer = found
        _replace_material(case, requirement, user)
        CaseMaterial.objects.create(
            case=case,
            requirement=requirement,
            round=case.submission_round,
            satisfied_by=offer.source,
            source_reference=offer.reference,
            source_title=offer.title,
            uploaded_by=user if getattr(user, "pk", None) else None,
            region_code=case.region_code,
        )
    if errors:
        raise InvalidInput(_("申请材料有误，请按提示修改。"), errors=errors)


def _replace_material(case: Case, requirement: MaterialRequirement, user) -> None:
    """Within one round the latest file for a material replaces the earlier one (its file goes on commit)."""
    old = CaseMaterial.objects.filter(case=case, requirement=requirement, round=case.submission_round).first()
    if old is None:
        return
    name = old.file.name
    old.delete()
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


def _find_offer(case: Case, requirement: MaterialRequirement, reference: str):
    for source in material_sources.sources_for(requirement.source):
        for offer in source.offers(requirement, person=case.applicant_person, organisation=case.applicant_org):
            if offer.reference == reference:
                return source, offer
    return None


def current_materials(case: Case) -> dict[int, CaseMaterial]:
    """The material in force for each requirement: the one of the latest round that supplied it."""
    latest: dict[int, CaseMaterial] = {}
    for material in case.materials.select_related("requirement").order_by("round", "id"):
        latest[material.requirement_id] = material
    return latest


def _use_offers(case: Case, user) -> None:
    """Submitting a round: each offer of the round records the holder's consent (``source.use``, inside
    this transaction) and its data is kept for the reviewing department. Raises if no longer valid."""
    for material in case.materials.filter(round=case.submission_round).exclude(
        satisfied_by=CaseMaterial.SatisfiedBy.UPLOAD
    ):
        found = _find_offer(case, material.requirement, material.source_reference)
        if found is None:
            raise InvalidInput(
                _("所选的“%(name)s”来源已不可用，请重新选择或上传。") % {"name": material.requirement.name},
                field=f"material_{material.requirement_id}",
            )
        source, offer = found
        material.source_data = source.use(offer, case=case, material=material.requirement, actor=user) or dict(
            offer.summary
        )
        material.save(update_fields=["source_data"])


def _check_complete(case: Case) -> None:
    """Every required material the applicant must supply is there (uploaded or satisfied by a source)."""
    have = current_materials(case)
    missing = {}
    for requirement in case.version.materials.all():
        if not requirement.required or requirement.source == MaterialRequirement.Source.DEPARTMENT:
            continue
        if requirement.pk not in have:
            missing[f"material_{requirement.pk}"] = _("请提供“%(name)s”。") % {"name": requirement.name}
    if missing:
        raise InvalidInput(_("必要的申请材料不齐全。"), errors=missing)


# ---------------------------------------------------------------------------------------------
# Form data


def validate_form(version: ItemVersion, data: Mapping | None) -> dict:
    """Check the application form against the version's form definition (``catalog.forms_schema``);
    returns the cleaned data or raises InvalidInput with ``errors`` = {field name: message}."""
    return validate_form_data(version.form_schema or [], dict(data or {}))


# ---------------------------------------------------------------------------------------------
# Case numbers


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


# ---------------------------------------------------------------------------------------------
# Applying: drafts, online submission, window


def _current_version(item: ServiceItem | int | str) -> ItemVersion:
    if not isinstance(item, ServiceItem):
        by_pk = isinstance(item, int) or (str(item).isdigit() and len(str(item)) < 12)
        lookup = {"pk": int(item)} if by_pk else {"code": str(item).strip()}
        item = ServiceItem.objects.filter(**lookup).first()
        if item is None:
            raise NotFound(_("未找到该事项。"))
    version = item.current_version
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
    version = _current_version(item)
    if version.online_depth < OnlineDepth.PRE_REVIEW:
        raise Conflict(_("该事项暂不支持网上申报，请到办事窗口办理。"))
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


def _own_draft(user, case: Case | int) -> Case:
    locked = _lock(case)
    if locked.status != Status.DRAFT or locked.submitted_by_id != getattr(user, "pk", None):
        if locked.status == Status.DRAFT or not selectors.visible_cases(user).filter(pk=locked.pk).exists():
            raise NotFound(_("未找到该办件。"))
        raise _state_error(locked, _("修改"))
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
            draft = _own_draft(user, case)
            before = Status.DRAFT
            if applicant_org is not None:
                draft.applicant_org = acting_organisation(user, applicant_org)
                draft.agent = selectors.person_of(user) if draft.applicant_org else None
                draft.applicant_person = None if draft.applicant_org else selectors.person_of(user)
                _check_service_object(draft.version, draft.applicant_org)
        elif item is not None:
            draft = _new_online_case(user, item, applicant_org)
            before = ""
        else:
            raise InvalidInput(_("请选择要申报的事项。"), field="item")
        if form_data is not None:
            draft.form_data = dict(form_data)
        if delivery_method or delivery_address is not None:
            draft.delivery_method = delivery_method or draft.delivery_method
            draft.delivery_address = (delivery_address or "").strip()[:200]
        draft.save()
        _put_materials(draft, user, files, offers, written)
        _record(draft, "draft_saved", actor=user, role=APPLICANT, before=before)
        return draft


def delete_draft(user, case: Case | int) -> None:
    """Discard the user's own draft with its files."""
    with transaction.atomic():
        draft = _own_draft(user, case)
        names = [m.file.name for m in draft.materials.all() if m.file]
        IdempotencyKey.objects.filter(case=draft).delete()
        draft.delete()
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


def _submit(case: Case, user, role: str, before: str, now) -> None:
    """Shared end of every submission: completeness, number, acceptance clock, event."""
    _check_complete(case)
    today = timezone.localdate(now)
    person = case.applicant_person or case.agent
    case.applicant_id_last4 = case.applicant_org.uscc[-4:] if case.applicant_org_id else person.id_last4
    case.number = allocate_number(case.item.code, today)
    case.status = Status.SUBMITTED
    case.submitted_at = now
    case.received_on = today
    due = clock.acceptance_due(case, today)
    case.acceptance_due, case.acceptance_due_provisional = due.date, due.provisional
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
        materials={m.requirement_id: m.sm3 or m.source_reference for m in current_materials(case).values()},
    )


def _fingerprint(**request: Any) -> str:
    """SM3 over what a submission asked for (uploads by name and size), to recognise a true retry."""
    files = request.pop("files", None) or {}
    request["files"] = sorted((str(k), getattr(f, "name", ""), getattr(f, "size", 0)) for k, f in files.items())
    request["offers"] = sorted((str(k), str(v)) for k, v in (request.get("offers") or {}).items())
    return sm3_hex(audit.canonical(request))


def _retried(user, key: str, fingerprint: str) -> Case | None:
    """The case an earlier request with this key created, or None. The same key with a different
    request is refused: the client would otherwise believe its second application was filed."""
    earlier = IdempotencyKey.objects.filter(user=user, key=key).select_related("case").first()
    if earlier is None:
        return None
    if earlier.fingerprint and earlier.fingerprint != fingerprint:
        raise Conflict(
            _(
                "这一提交已用于另一份申请（办件 %(n)s），内容不同，未再次受理。"
                "如需新的申请，请重新打开申请页面（接口调用请使用新的 Idempotency-Key）。"
            )
            % {"n": earlier.case.number or earlier.case.pk},
            field="idempotency_key",
        )
    return earlier.case


def _idempotent(user, idempotency_key: str | None, fingerprint: str, create: Callable[[Callable], Case]) -> Case:
    """Run ``create(remember)`` once per (user, key): a retry — even one racing the first request —
    returns the case the first created. ``create`` calls ``remember(case)`` inside its transaction."""
    key = (idempotency_key or "").strip()[:200]
    if not key or not getattr(user, "pk", None):
        return create(lambda case: None)
    if earlier := _retried(user, key, fingerprint):
        return earlier

    def remember(case: Case) -> None:
        IdempotencyKey.objects.create(
            user=user, key=key, fingerprint=fingerprint, case=case, region_code=case.region_code
        )

    try:
        return create(remember)
    except IntegrityError:
        # the racing request committed first (unique user+key); this one rolled back
        if earlier := _retried(user, key, fingerprint):
            return earlier
        raise


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

    ``form_data`` (merged over the draft's) is validated against the version's form definition; every
    required material must be uploaded (checked by content) or satisfied by an offer — the offer's
    source records the holder's consent (``source.use``) inside this transaction. The case gets its
    number and ``submitted`` status; the acceptance clock starts.

    ``idempotency_key``: the same key from the same user returns the case created first, even when two
    retries race (the loser's transaction is rolled back and its files deleted).
    """
    fingerprint = _fingerprint(
        item=str(getattr(item, "pk", item)), case=str(getattr(case, "pk", case)), form_data=dict(form_data or {}),
        files=files, offers=offers, applicant_org=str(getattr(applicant_org, "pk", applicant_org)),
        delivery_method=delivery_method, delivery_address=delivery_address,
    )  # fmt: skip

    def create(remember: Callable[[Case], None]) -> Case:
        with _writing() as written:
            now = timezone.now()
            if case is not None:
                target = _own_draft(user, case)
                merged = {**target.form_data, **dict(form_data or {})}
            elif item is not None:
                target = _new_online_case(user, item, applicant_org)
                merged = dict(form_data or {})
            else:
                raise InvalidInput(_("请选择要申报的事项。"), field="item")
            target.form_data = validate_form(target.version, merged)
            _set_delivery(target, delivery_method, delivery_address)
            target.save()
            remember(target)
            _put_materials(target, user, files, offers, written)
            _submit(target, user, APPLICANT, Status.DRAFT, now)
            return target

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

    def create(remember: Callable[[Case], None]) -> Case:
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
            case.form_data = validate_form(version, form_data)
            _set_delivery(case, delivery_method, delivery_address)
            case.save()
            remember(case)
            _put_materials(case, clerk, files, offers, written)
            _submit(case, clerk, Role.WINDOW_CLERK, "", now)
            if accept:
                _accept(case, clerk, Role.WINDOW_CLERK, written, deemed=False)
            return case

    return _idempotent(clerk, idempotency_key, fingerprint, create)


# ---------------------------------------------------------------------------------------------
# Acceptance


def _accept(case: Case, user, role: str, written: list[str], *, deemed: bool) -> None:
    now, today = _now_and_today()
    before = case.status
    case.status = Status.ACCEPTED
    case.accepted_at = now
    case.accepted_by = user if getattr(user, "pk", None) else None
    case.deemed_accepted = deemed
    # art. 32: a case nobody acted on counts as accepted from the day the materials were received
    case.clock_start = case.received_on if deemed else today
    case.save()
    _refresh_due(case)
    case.save()
    _open_step(case, 0)
    receipt = documents.issue(case, CaseDocument.Kind.RECEIPT, written=written)
    if deemed:
        note = _("逾期未作受理决定，依照《行政许可法》第三十二条视为受理；办结期限 %(d)s。") % {"d": case.due_date}
    else:
        note = _("已受理，办结期限 %(d)s。") % {"d": case.due_date}
    _record(
        case,
        "deemed_accepted" if deemed else "accepted",
        actor=user,
        role=role,
        before=before,
        note=note,
        due_date=case.due_date.isoformat(),
        due_provisional=case.due_provisional,
        document={"kind": receipt.kind, "sm3": receipt.sm3},
        **({"basis": "《中华人民共和国行政许可法》第三十二条"} if deemed else {}),
    )
    _notify_applicant(
        case, _("办件已受理"), _("您申请的“%(item)s”已受理。%(note)s") % {"item": case.version.name, "note": note}
    )


def accept_case(user, case: Case | int) -> Case:
    """受理: staff of the case's department (clerk/handler/reviewer/approver) or the window clerk who took
    it in. submitted → accepted; the decision clock starts today, the first stage's tasks open, the
    receipt (受理回执) is produced and the applicant notified."""
    with _writing() as written:
        case = _lock(case)
        role = _as_staff(user, case, ACCEPT_ROLES, clerk_may=True)
        _expect(case, {Status.SUBMITTED}, _("受理"))
        _accept(case, user, role, written, deemed=False)
        return case


def deem_accepted(case: Case | int) -> Case:
    """行政许可法 art. 32: a submitted case not acted on by its acceptance due date is accepted as of the
    day its materials were received. Run by the periodic sweep (system actor)."""
    with _writing() as written:
        case = _lock(case)
        _expect(case, {Status.SUBMITTED}, _("视为受理"))
        if case.acceptance_due is None or timezone.localdate() <= case.acceptance_due:
            raise Conflict(_("受理期限尚未届满。"))
        _accept(case, None, SYSTEM, written, deemed=True)
        return case


def deem_overdue_acceptances() -> list[str]:
    """Deem accepted every submitted case past its acceptance due date. Returns their numbers."""
    done = []
    for pk in Case.objects.filter(status=Status.SUBMITTED, acceptance_due__lt=timezone.localdate()).values_list(
        "pk", flat=True
    ):
        try:
            done.append(deem_accepted(pk).number)
        except Conflict:
            continue  # someone acted on it meanwhile
    return done


def refuse_case(user, case: Case | int, *, reason: str) -> Case:
    """不予受理 with a reason: submitted → refused; the notice (不予受理通知书) is produced."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写不予受理的理由。"), field="reason")
    with _writing() as written:
        case = _lock(case)
        role = _as_staff(user, case, ACCEPT_ROLES, clerk_may=True)
        _expect(case, {Status.SUBMITTED}, _("不予受理"))
        case.status = Status.REFUSED
        case.refusal_reason = reason
        case.warning_level = WarningLevel.NONE
        case.save()
        notice = documents.issue(case, CaseDocument.Kind.REFUSAL, written=written)
        _record(
            case,
            "refused",
            actor=user,
            role=role,
            before=Status.SUBMITTED,
            note=reason,
            document={"kind": notice.kind, "sm3": notice.sm3},
        )
        _notify_applicant(
            case, _("办件不予受理"), _("您申请的“%(item)s”不予受理：%(r)s") % {"item": case.version.name, "r": reason}
        )
        return case


# ---------------------------------------------------------------------------------------------
# Correction (补正, 一次性告知)


def _normalise_problems(case: Case, items) -> list[dict]:
    if not isinstance(items, list | tuple) or not items:
        raise InvalidInput(_("请列出需要补正的全部内容。"), field="items")
    reqs = _requirements(case.version)
    labels = {
        f.get("name"): f.get("label") or f.get("name") for f in case.version.form_schema or [] if isinstance(f, dict)
    }
    out = []
    for index, raw in enumerate(items):
        raw = dict(raw or {})
        problem = str(raw.get("problem") or "").strip()
        material = raw.get("material")
        field = str(raw.get("field") or "").strip()
        if not problem:
            raise InvalidInput(_("第%(n)d项补正内容未写明问题。") % {"n": index + 1}, field="items")
        entry: dict[str, Any] = {
            "material": None,
            "material_name": "",
            "field": "",
            "field_label": "",
            "problem": problem,
        }
        if material not in (None, ""):
            req_id = _requirement_key(material)
            if req_id not in reqs:
                raise InvalidInput(_("第%(n)d项补正内容指向的材料不属于该事项。") % {"n": index + 1}, field="items")
            entry["material"], entry["material_name"] = req_id, reqs[req_id].name
        if field:
            if labels and field not in labels:
                raise InvalidInput(_("第%(n)d项补正内容指向的表单项不存在。") % {"n": index + 1}, field="items")
            entry["field"], entry["field_label"] = field, labels.get(field, field)
        out.append(entry)
    return out


def request_correction(user, case: Case | int, *, items: list[dict]) -> CorrectionRequest:
    """补正告知: list EVERY problem at once — ``items`` = [{"material": requirement id | None, "field":
    form field name | "", "problem": "..."}]. Allowed once per submission round (一次性告知): a second
    request before the applicant resubmits → Conflict.

    Before acceptance (submitted) the acceptance clock restarts on resubmission; after acceptance
    (accepted / in_review) the decision clock stops until resubmission. The notice (补正告知书) is produced.
    """
    with _writing() as written:
        case = _lock(case)
        role = _as_staff(user, case, ACCEPT_ROLES if case.status == Status.SUBMITTED else REVIEW_ROLES, clerk_may=True)
        if CorrectionRequest.objects.filter(case=case, round=case.submission_round).exists():
            raise Conflict(_("本轮申报已一次性告知需补正的全部内容，不能再次要求补正（一次性告知）。"))
        _expect(case, {Status.SUBMITTED, Status.ACCEPTED, Status.IN_REVIEW}, _("要求补正"))
        problems = _normalise_problems(case, items)
        now = timezone.now()
        before = case.status
        correction = CorrectionRequest.objects.create(
            case=case,
            round=case.submission_round,
            items=problems,
            requested_by=user,
            requested_at=now,
            resume_status=before,
            region_code=case.region_code,
        )
        if before != Status.SUBMITTED:
            ClockPause.objects.create(
                case=case,
                kind=PauseKind.CORRECTION,
                reason=_("补正材料"),
                started_at=now,
                resume_status=before,
                started_by=user,
                applicant_informed_at=now,
                region_code=case.region_code,
            )
        case.status = Status.CORRECTION_REQUESTED
        case.warning_level = WarningLevel.NONE
        case.save()
        notice = documents.issue(case, CaseDocument.Kind.CORRECTION, written=written, correction=correction)
        summary = "；".join(documents._problem_line(p) for p in problems)
        _record(
            case,
            "correction_requested",
            actor=user,
            role=role,
            before=before,
            note=summary,
            round=correction.round,
            items=problems,
            document={"kind": notice.kind, "sm3": notice.sm3},
        )
        _notify_applicant(
            case,
            _("请补正申请材料"),
            _("您申请的“%(item)s”需补正：%(s)s。请登录一网通办一次性补正。")
            % {"item": case.version.name, "s": summary},
        )
        return correction


def resubmit_correction(
    user,
    case: Case | int,
    *,
    form_data: Mapping | None = None,
    files: Mapping | None = None,
    offers: Mapping | None = None,
) -> Case:
    """The applicant supplies the corrections (a new submission round). Every material named in the
    request must be supplied again; ``form_data`` is merged and validated again. Before acceptance the
    case returns to ``submitted`` and the acceptance clock restarts today; after acceptance the clock
    pause ends and the case returns to where it was."""
    with _writing() as written:
        case = _lock(case)
        role = _as_applicant(user, case)
        _expect(case, {Status.CORRECTION_REQUESTED}, _("提交补正"))
        correction = CorrectionRequest.objects.get(case=case, round=case.submission_round)
        now, today = _now_and_today()
        case.submission_round += 1
        case.form_data = validate_form(case.version, {**case.form_data, **dict(form_data or {})})
        case.save()
        _put_materials(case, user, files, offers, written)
        _use_offers(case, user)
        resupplied = set(case.materials.filter(round=case.submission_round).values_list("requirement_id", flat=True))
        missing = {
            f"material_{p['material']}": _("请补正“%(name)s”：%(p)s") % {"name": p["material_name"], "p": p["problem"]}
            for p in correction.items
            if p.get("material") and p["material"] not in resupplied
        }
        if missing:
            raise InvalidInput(_("尚未补正全部材料。"), errors=missing)
        _check_complete(case)
        correction.resolved_at = now
        correction.save(update_fields=["resolved_at"])
        before = case.status
        if correction.resume_status == Status.SUBMITTED:
            case.status = Status.SUBMITTED
            case.received_on = today
            due = clock.acceptance_due(case, today)
            case.acceptance_due, case.acceptance_due_provisional = due.date, due.provisional
        else:
            ClockPause.objects.filter(case=case, kind=PauseKind.CORRECTION, ended_at__isnull=True).update(
                ended_at=now, result=_("已补正")
            )
            case.status = correction.resume_status
            _refresh_due(case)
        case.save()
        _record(
            case,
            "correction_resubmitted",
            actor=user,
            role=role,
            before=before,
            round=case.submission_round,
            materials={
                m.requirement_id: m.sm3 or m.source_reference
                for m in case.materials.filter(round=case.submission_round)
            },
        )
        return case


# ---------------------------------------------------------------------------------------------
# Back-office stages


@dataclass(frozen=True)
class StepStage:
    stage: CatalogStage | None
    name: str
    kind: str
    role: str
    department_id: int
    time_share: int


def plan(case: Case) -> list[list[StepStage]]:
    """The steps of the case: its version's stages in order, stages of one parallel group together
    (并联审批). A version without a decide stage gets a final approver step in its own department."""
    steps: dict[str, list[StepStage]] = {}
    for stage in case.version.stages.order_by("order", "id"):
        key = f"group:{stage.parallel_group}" if stage.parallel_group else f"stage:{stage.pk}"
        steps.setdefault(key, []).append(
            StepStage(
                stage, stage.name, stage.kind, stage.role, stage.department_id or case.department_id, stage.time_share
            )
        )
    out = list(steps.values())
    if not any(s.kind == CatalogStage.Kind.DECIDE for step in out for s in step):
        out.append([StepStage(None, _("审批"), CatalogStage.Kind.DECIDE, Role.APPROVER, case.department_id, 0)])
    return out


def _open_step(case: Case, index: int) -> list[CaseTask]:
    today = timezone.localdate()
    tasks = []
    for spec in plan(case)[index]:
        due = clock.stage_due(case, spec.time_share, today)
        tasks.append(
            CaseTask.objects.create(
                case=case,
                stage=spec.stage,
                step=index,
                name=spec.name,
                kind=spec.kind,
                role=spec.role,
                department_id=spec.department_id,
                due_date=due.date if due else None,
                due_provisional=bool(due and due.provisional),
                region_code=case.region_code,
            )
        )
    return tasks


def _task_of(case: Case, task: CaseTask | int | None, **filters) -> CaseTask | None:
    qs = CaseTask.objects.select_for_update().filter(case=case, **filters)
    if task is not None:
        return qs.filter(pk=task.pk if isinstance(task, CaseTask) else task).first()
    return qs.order_by("step", "id").first()


def claim_task(user, case: Case | int, task: CaseTask | int | None = None) -> CaseTask:
    """签收: take an open task of the case (by default the first one whose department and role the user
    holds). accepted → in_review. A task someone else claimed meanwhile → Conflict."""
    with transaction.atomic():
        case = _lock(case)
        _require_visible(user, case)
        _expect(case, {Status.ACCEPTED, Status.IN_REVIEW}, _("签收办理"))
        if task is None:
            mine = set(StaffRole.objects.filter(user=user).values_list("department_id", "role"))
            candidates = [
                t
                for t in CaseTask.objects.filter(case=case, status=CaseTask.State.OPEN)
                if (t.department_id, t.role) in mine
            ]
            if not candidates:
                raise Conflict(_("此办件当前没有您可以签收的任务。"))
            task = candidates[0]
        found = _task_of(case, task)
        if found is None:
            raise NotFound(_("未找到该任务。"))
        if found.status != CaseTask.State.OPEN:
            holder = found.assignee.display_name or found.assignee.username if found.assignee_id else ""
            raise Conflict(
                _("该任务已被%(who)s签收或已办理，不能重复签收。") % {"who": holder or _("他人")}
                if found.status == CaseTask.State.CLAIMED
                else _("该任务已办理完毕。")
            )
        if not StaffRole.objects.filter(user=user, department_id=found.department_id, role=found.role).exists():
            raise Forbidden(_("您没有“%(task)s”环节的岗位权限。") % {"task": found.name})
        before = case.status
        found.status, found.assignee, found.claimed_at = CaseTask.State.CLAIMED, user, timezone.now()
        found.save()
        if case.status == Status.ACCEPTED:
            case.status = Status.IN_REVIEW
            case.save()
        _record(
            case,
            "task_claimed",
            actor=user,
            role=found.role,
            before=before,
            task=found.pk,
            stage=found.name,
            department=found.department.name,
        )
        return found


def _my_claimed_task(user, case: Case, task) -> CaseTask:
    found = _task_of(case, task, assignee=user, status=CaseTask.State.CLAIMED)
    if found is None:
        raise Conflict(_("您在此办件上没有正在办理的任务，请先签收。"))
    return found


def pass_task(user, case: Case | int, task: CaseTask | int | None = None, *, comment: str = "") -> Case:
    """办理通过: finish the user's claimed task with an optional comment. When every task of the step is
    passed, the next step's tasks open (并联: the case waits for all). A decide task is finished with
    ``decide`` instead."""
    with transaction.atomic():
        case = _lock(case)
        _require_visible(user, case)
        _expect(case, {Status.IN_REVIEW}, _("办理通过"))
        found = _my_claimed_task(user, case, task)
        if found.kind == CatalogStage.Kind.DECIDE:
            raise Conflict(_("审批环节请作出准予或不予的决定。"))
        found.status, found.finished_at, found.comment = CaseTask.State.PASSED, timezone.now(), comment.strip()
        found.save()
        next_step = None
        if not case.tasks.filter(step=found.step, status__in=[CaseTask.State.OPEN, CaseTask.State.CLAIMED]).exists():
            next_step = found.step + 1
            _open_step(case, next_step)
        _record(
            case,
            "task_passed",
            actor=user,
            role=found.role,
            before=case.status,
            task=found.pk,
            stage=found.name,
            department=found.department.name,
            comment=found.comment,
            next_step=next_step,
        )
        return case


def return_task(user, case: Case | int, task: CaseTask | int | None = None, *, comment: str) -> Case:
    """退回: send the case back to the previous step with a comment (required). The other tasks of the
    current step are cancelled and the previous step's tasks open again."""
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput(_("请填写退回意见。"), field="comment")
    with transaction.atomic():
        case = _lock(case)
        _require_visible(user, case)
        _expect(case, {Status.IN_REVIEW}, _("退回"))
        found = _my_claimed_task(user, case, task)
        if found.step == 0:
            raise Conflict(_("当前已是第一个办理环节，不能退回。"))
        now = timezone.now()
        found.status, found.finished_at, found.comment = CaseTask.State.RETURNED, now, comment
        found.save()
        case.tasks.filter(step=found.step, status__in=[CaseTask.State.OPEN, CaseTask.State.CLAIMED]).update(
            status=CaseTask.State.CANCELLED, finished_at=now
        )
        _open_step(case, found.step - 1)
        _record(
            case,
            "task_returned",
            actor=user,
            role=found.role,
            before=case.status,
            task=found.pk,
            stage=found.name,
            department=found.department.name,
            comment=comment,
        )
        return case


# ---------------------------------------------------------------------------------------------
# Decision, fees, completion, delivery


def decide(user, case: Case | int, *, approve: bool, reason: str = "", task: CaseTask | int | None = None) -> Case:
    """决定: approve or deny (a denial needs its reasons). Normally by the approver holding the case's
    claimed decide task, once the other tasks of that step are passed. For 即办件 the window clerk who
    took the case in (or a clerk/approver of the department) decides at once after acceptance.

    → approved / denied; the decision (决定书) is produced; a fee order is created for an approved case
    whose item has a fee; the applicant is notified; ``case_decided(case, approved)`` is sent on commit.
    """
    reason = (reason or "").strip()
    if not approve and not reason:
        raise InvalidInput(_("不予办理须写明理由。"), field="reason")
    with _writing() as written:
        case = _lock(case)
        _require_visible(user, case)
        immediate = case.version.handling == Handling.IMMEDIATE
        now = timezone.now()
        if immediate and case.status in {Status.ACCEPTED, Status.IN_REVIEW}:
            role = _as_staff(user, case, {Role.WINDOW_CLERK, Role.APPROVER}, clerk_may=True)
        else:
            _expect(case, {Status.IN_REVIEW}, _("作出决定"))
            found = _task_of(case, task, assignee=user, status=CaseTask.State.CLAIMED, kind=CatalogStage.Kind.DECIDE)
            if found is None:
                raise Conflict(_("尚未到审批环节，或您没有签收该办件的审批任务。"))
            if (
                case.tasks.filter(step=found.step, status=CaseTask.State.OPEN).exists()
                or case.tasks.filter(step=found.step, status=CaseTask.State.CLAIMED).exclude(pk=found.pk).exists()
            ):
                raise Conflict(_("并联办理的其他环节尚未全部完成，暂不能作出决定。"))
            role = found.role
            found.status, found.finished_at, found.comment = CaseTask.State.PASSED, now, reason
            found.save()
        case.tasks.filter(status__in=[CaseTask.State.OPEN, CaseTask.State.CLAIMED]).update(
            status=CaseTask.State.CANCELLED, finished_at=now
        )
        before = case.status
        case.status = Status.APPROVED if approve else Status.DENIED
        case.decision = Decision.APPROVED if approve else Decision.DENIED
        case.decision_reason = reason
        case.decided_at = now
        case.decided_by = user
        case.warning_level = WarningLevel.NONE
        case.save()
        decision_doc = documents.issue(case, CaseDocument.Kind.DECISION, written=written)
        order = None
        if approve and case.version.fee > 0:
            order = _create_order(case, case.version.fee)
        _record(
            case,
            "decided",
            actor=user,
            role=role,
            before=before,
            decision=case.decision,
            note=reason,
            document={"kind": decision_doc.kind, "sm3": decision_doc.sm3},
            payment_order=order.number if order else None,
        )
        outcome = _("准予办理") if approve else _("不予办理：%(r)s") % {"r": reason}
        _notify_applicant(
            case, _("办件已作出决定"), _("您申请的“%(item)s”%(o)s。") % {"item": case.version.name, "o": outcome}
        )
        if order:
            _notify_applicant(
                case,
                _("请缴纳费用"),
                _("请缴纳“%(item)s”费用 %(a)s 元。") % {"item": case.version.name, "a": order.amount},
            )
        decided = case
        transaction.on_commit(lambda: _announce_decision(decided, approve))
        return case


def _announce_decision(case: Case, approved: bool) -> None:
    for receiver, result in case_decided.send_robust(sender=Case, case=case, approved=approved):
        if isinstance(result, Exception):
            log.error("case_decided receiver %r failed for %s", receiver, case.number, exc_info=result)


def _create_order(case: Case, amount: Decimal) -> PaymentOrder:
    return PaymentOrder.objects.create(
        number=f"{case.number}-P{case.payments.count() + 1}",
        case=case,
        amount=amount,
        provider=get_provider().name,
        region_code=case.region_code,
    )


def create_payment_order(user, case: Case | int, *, amount: Decimal | str | None = None) -> PaymentOrder:
    """A fee order for the case (default: the item version's fee), by staff of its department. One unpaid
    order per case at a time. (An approved case with a fee gets one automatically from ``decide``.)"""
    with transaction.atomic():
        case = _lock(case)
        role = _as_staff(user, case, ACCEPT_ROLES, clerk_may=True)
        _expect(case, OPEN_STATES | {Status.APPROVED, Status.COMPLETED}, _("开具缴费单"))
        try:
            value = Decimal(str(amount)) if amount not in (None, "") else case.version.fee
        except ArithmeticError:
            raise InvalidInput(_("金额格式不正确。"), field="amount") from None
        if value <= 0:
            raise InvalidInput(_("缴费金额须大于零。"), field="amount")
        if case.payments.filter(status=PaymentOrder.State.UNPAID).exists():
            raise Conflict(_("该办件已有待缴费的缴费单。"))
        order = _create_order(case, value.quantize(Decimal("0.01")))
        _record(
            case,
            "payment_ordered",
            actor=user,
            role=role,
            before=case.status,
            order=order.number,
            amount=str(order.amount),
        )
        _notify_applicant(
            case, _("请缴纳费用"), _("请缴纳“%(item)s”费用 %(a)s 元。") % {"item": case.version.name, "a": order.amount}
        )
        return order


def _order_for_applicant(user, order: PaymentOrder | str) -> PaymentOrder:
    number = order.number if isinstance(order, PaymentOrder) else str(order)
    found = PaymentOrder.objects.filter(number=number, case__in=selectors.cases_for_applicant(user)).first()
    if found is None:
        raise NotFound(_("未找到该缴费单。"))
    return found


def start_payment(user, order: PaymentOrder | str) -> str:
    """The provider's cashier URL for the applicant's unpaid order."""
    found = _order_for_applicant(user, order)
    if found.status != PaymentOrder.State.UNPAID:
        raise Conflict(_("该缴费单%(s)s，无需再缴费。") % {"s": found.get_status_display()})
    return get_provider().checkout_url(found)


def simulate_payment(user, order: PaymentOrder | str) -> PaymentOrder:
    """Development cashier: the applicant "pays", the DevPaymentProvider sends its signed callback, and
    the callback is handled exactly like a real one. Refused unless the dev provider is configured."""
    provider = get_provider()
    if not isinstance(provider, DevPaymentProvider):
        raise NotFound(_("模拟支付仅在开发环境可用。"))
    found = _order_for_applicant(user, order)
    if found.status != PaymentOrder.State.UNPAID:
        raise Conflict(_("该缴费单%(s)s，无需再缴费。") % {"s": found.get_status_display()})
    body, headers = provider.simulate_callback(found)
    return handle_payment_callback(provider.name, body, headers)


def handle_payment_callback(provider_name: str, body: bytes, headers: Mapping[str, str]) -> PaymentOrder:
    """The provider's notification: verified by signature (Forbidden if wrong), then the order is marked
    paid. Idempotent: the same notice again returns the paid order unchanged."""
    provider = get_provider()
    if provider.name != provider_name:
        raise NotFound(_("未知的支付渠道。"))
    notice = provider.parse_callback(body, headers)
    with transaction.atomic():
        order = PaymentOrder.objects.filter(number=notice.order_number).first()
        if order is None:
            raise NotFound(_("未找到该缴费单。"))
        case = _lock(order.case_id)
        order = PaymentOrder.objects.select_for_update().get(pk=order.pk)
        if order.status == PaymentOrder.State.PAID:
            if order.provider_reference == notice.provider_reference:
                return order
            raise Conflict(_("该缴费单已缴费，重复的支付通知未处理。"))
        if order.status != PaymentOrder.State.UNPAID:
            raise Conflict(_("该缴费单已取消。"))
        if notice.amount != order.amount:
            raise Conflict(_("支付金额与缴费单金额不一致。"))
        if not notice.paid:
            return order
        order.status = PaymentOrder.State.PAID
        order.paid_at = timezone.now()
        order.provider = provider.name
        order.provider_reference = notice.provider_reference
        order.save()
        _record(
            case,
            "payment_paid",
            actor=f"payment:{provider.name}",
            role="payment_provider",
            before=case.status,
            order=order.number,
            amount=str(order.amount),
            provider_reference=order.provider_reference,
        )
        return order


def fee_settled(case: Case) -> bool:
    """Whether the fee rule lets the case complete: no fee, fee after completion, or a paid order."""
    if case.decision != Decision.APPROVED or case.version.fee <= 0 or not case.version.fee_before_completion:
        return True
    return (
        case.payments.filter(status=PaymentOrder.State.PAID).exists()
        and not case.payments.filter(status=PaymentOrder.State.UNPAID).exists()
    )


def complete_case(user, case: Case | int) -> Case:
    """办结: approved / denied → completed, by staff of the department or the window clerk. An approved
    case whose item wants the fee first (``ItemVersion.fee_before_completion``) must be paid."""
    with transaction.atomic():
        case = _lock(case)
        role = _as_staff(user, case, ACCEPT_ROLES, clerk_may=True)
        _expect(case, {Status.APPROVED, Status.DENIED}, _("办结"))
        if not fee_settled(case):
            raise Conflict(_("申请人尚未缴费，暂不能办结。"))
        before = case.status
        case.status = Status.COMPLETED
        case.completed_at = timezone.now()
        case.save()
        _record(case, "completed", actor=user, role=role, before=before)
        _notify_applicant(case, _("办件已办结"), _("您申请的“%(item)s”已办结。") % {"item": case.version.name})
        return case


def deliver(
    user,
    case: Case | int,
    *,
    method: str,
    recipient: str = "",
    phone: str = "",
    address: str = "",
    carrier: str = "",
    tracking_number: str = "",
) -> Delivery:
    """送达 (出件): completed → delivered, at the window, by post (``address`` and ``tracking_number``
    required) or electronically."""
    if method not in DeliveryMethod.values:
        raise InvalidInput(_("送达方式无效。"), field="method")
    if method == DeliveryMethod.POST:
        if not address.strip():
            raise InvalidInput(_("邮寄送达须填写邮寄地址。"), field="address")
        if not tracking_number.strip():
            raise InvalidInput(_("邮寄送达须填写快递单号。"), field="tracking_number")
    with transaction.atomic():
        case = _lock(case)
        role = _as_staff(user, case, ACCEPT_ROLES, clerk_may=True)
        _expect(case, {Status.COMPLETED}, _("送达"))
        now = timezone.now()
        delivery = Delivery.objects.create(
            case=case,
            method=method,
            recipient=recipient.strip()[:60] or case.applicant_name[:60],
            phone=phone.strip()[:20],
            address=address.strip()[:200],
            carrier=carrier.strip()[:40],
            tracking_number=tracking_number.strip()[:60],
            delivered_at=now,
            delivered_by=user,
            region_code=case.region_code,
        )
        case.status = Status.DELIVERED
        case.delivered_at = now
        case.save()
        how = delivery.get_method_display()
        if method == DeliveryMethod.POST:
            how += _("，%(carrier)s 快递单号 %(t)s") % {"carrier": delivery.carrier, "t": delivery.tracking_number}
        _record(
            case,
            "delivered",
            actor=user,
            role=role,
            before=Status.COMPLETED,
            method=method,
            note=how,
            tracking_number=delivery.tracking_number,
        )
        _notify_applicant(
            case,
            _("办理结果已送达"),
            _("您申请的“%(item)s”办理结果已送达（%(how)s）。") % {"item": case.version.name, "how": how},
        )
        return delivery


def withdraw(user, case: Case | int, *, reason: str = "") -> Case:
    """撤回: the applicant withdraws a submitted case before the decision. Open tasks are cancelled, the
    clock stops, unpaid fee orders are cancelled."""
    with transaction.atomic():
        case = _lock(case)
        role = _as_applicant(user, case)
        _expect(case, OPEN_STATES, _("撤回"))
        now = timezone.now()
        before = case.status
        case.tasks.filter(status__in=[CaseTask.State.OPEN, CaseTask.State.CLAIMED]).update(
            status=CaseTask.State.CANCELLED, finished_at=now
        )
        ClockPause.objects.filter(case=case, ended_at__isnull=True).update(ended_at=now, result=_("申请人撤回"))
        case.payments.filter(status=PaymentOrder.State.UNPAID).update(status=PaymentOrder.State.CANCELLED)
        case.status = Status.WITHDRAWN
        case.withdrawn_at = now
        case.withdraw_reason = (reason or "").strip()
        case.warning_level = WarningLevel.NONE
        case.save()
        _record(case, "withdrawn", actor=user, role=role, before=before, note=case.withdraw_reason)
        return case


# ---------------------------------------------------------------------------------------------
# Special procedures and extensions (the clock)


def _as_reviewer(user, case: Case) -> str:
    """Staff of the department in a review role, or the holder of one of the case's claimed tasks."""
    _require_visible(user, case)
    task = case.tasks.filter(assignee=user, status=CaseTask.State.CLAIMED).first()
    if task is not None:
        return task.role
    return _as_staff(user, case, REVIEW_ROLES)


def start_special_procedure(user, case: Case | int, *, kind: str, reason: str) -> ClockPause:
    """特别程序 (听证/现场勘查/检验检测/检疫/鉴定/专家评审…, 行政许可法 art. 45): the clock stops;
    accepted | in_review → suspended; the applicant is informed in writing (特别程序告知书 + message)."""
    if kind not in SPECIAL_PROCEDURE_KINDS:
        raise InvalidInput(_("特别程序类型无效。"), field="kind")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写特别程序的理由。"), field="reason")
    with _writing() as written:
        case = _lock(case)
        role = _as_reviewer(user, case)
        _expect(case, {Status.ACCEPTED, Status.IN_REVIEW}, _("启动特别程序"))
        now = timezone.now()
        before = case.status
        pause = ClockPause.objects.create(
            case=case,
            kind=kind,
            reason=reason,
            started_at=now,
            applicant_informed_at=now,
            resume_status=before,
            started_by=user,
            region_code=case.region_code,
        )
        case.status = Status.SUSPENDED
        case.warning_level = WarningLevel.NONE
        case.save()
        notice = documents.issue(case, CaseDocument.Kind.SPECIAL_PROCEDURE, written=written, pause=pause)
        note = f"{pause.get_kind_display()}：{reason}"
        _record(
            case,
            "special_procedure_started",
            actor=user,
            role=role,
            before=before,
            kind=kind,
            note=note,
            pause=pause.pk,
            document={"kind": notice.kind, "sm3": notice.sm3},
        )
        _notify_applicant(
            case,
            _("办件进入特别程序"),
            _("您申请的“%(item)s”进入特别程序（%(n)s），所需时间不计入办理时限。")
            % {"item": case.version.name, "n": note},
        )
        return pause


def end_special_procedure(user, case: Case | int, *, result: str = "") -> Case:
    """End the open special procedure with its result: suspended → the state before; the clock resumes
    and the due date moves by the working days it stood still."""
    with transaction.atomic():
        case = _lock(case)
        role = _as_reviewer(user, case)
        _expect(case, {Status.SUSPENDED}, _("结束特别程序"))
        pause = (
            ClockPause.objects.select_for_update()
            .filter(case=case, ended_at__isnull=True)
            .exclude(kind=PauseKind.CORRECTION)
            .first()
        )
        now = timezone.now()
        pause.ended_at, pause.ended_by, pause.result = now, user, (result or "").strip()
        pause.save()
        before = case.status
        case.status = pause.resume_status
        _refresh_due(case)
        case.save()
        note = _("%(kind)s结束，恢复计时，办结期限 %(d)s。") % {"kind": pause.get_kind_display(), "d": case.due_date}
        _record(
            case,
            "special_procedure_ended",
            actor=user,
            role=role,
            before=before,
            kind=pause.kind,
            pause=pause.pk,
            result=pause.result,
            note=note,
            due_date=case.due_date.isoformat(),
        )
        _notify_applicant(
            case, _("特别程序结束"), _("您申请的“%(item)s”%(n)s") % {"item": case.version.name, "n": note}
        )
        return case


def request_extension(user, case: Case | int, *, days: int, reason: str) -> Extension:
    """延期申请: up to 10 working days in all for a case under review; one pending request at a time."""
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise InvalidInput(_("延期天数须为整数。"), field="days") from None
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写延期理由。"), field="reason")
    with transaction.atomic():
        case = _lock(case)
        role = _as_reviewer(user, case)
        _expect(case, REVIEW_STATES, _("申请延期"))
        if case.extensions.filter(status=Extension.State.PENDING).exists():
            raise Conflict(_("已有待审批的延期申请。"))
        used = sum(case.extensions.filter(status=Extension.State.APPROVED).values_list("days", flat=True))
        if days < 1 or used + days > Extension.MAX_DAYS:
            raise InvalidInput(
                _("延期合计不得超过%(max)d个工作日（已批准%(used)d个）。") % {"max": Extension.MAX_DAYS, "used": used},
                field="days",
            )
        extension = Extension.objects.create(
            case=case,
            days=days,
            reason=reason,
            requested_by=user,
            requested_at=timezone.now(),
            region_code=case.region_code,
        )
        _record(
            case,
            "extension_requested",
            actor=user,
            role=role,
            before=case.status,
            extension=extension.pk,
            days=days,
            note=reason,
        )
        return extension


def approve_extension(user, extension: Extension | int, *, approve: bool = True, comment: str = "") -> Extension:
    """延期审批 by an approver of the case's department: approved → the due date moves by the days."""
    ext_pk = extension.pk if isinstance(extension, Extension) else extension
    case_pk = Extension.objects.filter(pk=ext_pk).values_list("case_id", flat=True).first()
    if case_pk is None:
        raise NotFound(_("未找到该延期申请。"))
    with transaction.atomic():
        case = _lock(case_pk)
        role = _as_staff(user, case, {Role.APPROVER})
        extension = Extension.objects.select_for_update().get(pk=ext_pk)
        if extension.status != Extension.State.PENDING:
            raise Conflict(_("该延期申请已%(s)s。") % {"s": extension.get_status_display()})
        _expect(case, REVIEW_STATES, _("审批延期"))
        extension.status = Extension.State.APPROVED if approve else Extension.State.REJECTED
        extension.decided_by, extension.decided_at = user, timezone.now()
        extension.decision_comment = (comment or "").strip()
        extension.save()
        _refresh_due(case)
        case.save()
        note = (
            _("办理期限延长%(n)d个工作日，办结期限 %(d)s。") % {"n": extension.days, "d": case.due_date}
            if approve
            else ""
        )
        _record(
            case,
            "extension_approved" if approve else "extension_rejected",
            actor=user,
            role=role,
            before=case.status,
            extension=extension.pk,
            days=extension.days,
            note=note,
            due_date=case.due_date.isoformat() if case.due_date else None,
        )
        if approve:
            _notify_applicant(
                case, _("办理期限延长"), _("您申请的“%(item)s”%(n)s") % {"item": case.version.name, "n": note}
            )
        return extension


# ---------------------------------------------------------------------------------------------
# Due dates and warnings (also run by the periodic sweep)


def _refresh_due(case: Case) -> None:
    """Recompute the stored due dates of the case (not saved)."""
    if case.status == Status.SUBMITTED and case.received_on:
        due = clock.acceptance_due(case, case.received_on)
        case.acceptance_due, case.acceptance_due_provisional = due.date, due.provisional
    if case.clock_start:
        due = clock.decision_due(case)
        case.due_date, case.due_provisional = due.date, due.provisional


def recompute_due_dates(*, provisional_only: bool = True) -> int:
    """Recompute the due dates of open cases (by default those marked provisional) after the calendar
    changed. Each changed case gets a "due_recomputed" event. Returns the number changed."""
    qs = Case.objects.filter(status__in=OPEN_STATES)
    if provisional_only:
        qs = qs.filter(Q(due_provisional=True) | Q(acceptance_due_provisional=True) | Q(tasks__due_provisional=True))
    changed = 0
    for pk in qs.values_list("pk", flat=True).distinct():
        with transaction.atomic():
            case = _lock(pk)
            before = (case.acceptance_due, case.acceptance_due_provisional, case.due_date, case.due_provisional)
            _refresh_due(case)
            for task in case.tasks.filter(
                due_provisional=True, status__in=[CaseTask.State.OPEN, CaseTask.State.CLAIMED]
            ):
                share = task.stage.time_share if task.stage_id else 0
                due = clock.stage_due(case, share, timezone.localdate(task.created_at))
                if due:
                    task.due_date, task.due_provisional = due.date, due.provisional
                    task.save(update_fields=["due_date", "due_provisional"])
            after = (case.acceptance_due, case.acceptance_due_provisional, case.due_date, case.due_provisional)
            if after != before:
                case.save()
                _record(
                    case,
                    "due_recomputed",
                    actor=None,
                    role=SYSTEM,
                    before=case.status,
                    due_before=str(before[2] or before[0]),
                    due_after=str(after[2] or after[0]),
                    provisional=case.due_provisional if case.clock_start else case.acceptance_due_provisional,
                )
                changed += 1
    return changed


def responsible_staff(case: Case) -> list:
    """Who answers for the case's time limit now: holders of its claimed tasks, else the staff who may
    claim its open tasks, else (before acceptance) the staff who may accept it."""
    from yiwang.identity.models import User

    holders = User.objects.filter(case_tasks__case=case, case_tasks__status=CaseTask.State.CLAIMED)
    if holders.exists():
        return list(holders.distinct())
    open_pairs = list(case.tasks.filter(status=CaseTask.State.OPEN).values_list("department_id", "role"))
    if open_pairs:
        ids = set()
        for department_id, role in open_pairs:
            ids |= set(
                StaffRole.objects.filter(department_id=department_id, role=role).values_list("user_id", flat=True)
            )
        return list(User.objects.filter(pk__in=ids))
    ids = set(
        StaffRole.objects.filter(department_id=case.department_id, role__in=list(ACCEPT_ROLES)).values_list(
            "user_id", flat=True
        )
    )
    if case.clerk_id:
        ids.add(case.clerk_id)
    return list(User.objects.filter(pk__in=ids))


LEVEL_RANK = {WarningLevel.NONE: 0, WarningLevel.YELLOW: 1, WarningLevel.RED: 2}


def refresh_warnings() -> dict[str, int]:
    """Recompute due dates (an open pause moves them) and warning levels of every open case. Staff are
    notified once per level change upwards (yellow, red). Returns counts per new level."""
    counts = {WarningLevel.YELLOW: 0, WarningLevel.RED: 0, WarningLevel.NONE: 0}
    for pk in Case.objects.filter(status__in=OPEN_STATES).values_list("pk", flat=True):
        with transaction.atomic():
            case = _lock(pk)
            if case.status not in OPEN_STATES:
                continue
            clock_fields = ["acceptance_due", "acceptance_due_provisional", "due_date", "due_provisional"]
            before = [getattr(case, f) for f in clock_fields]
            _refresh_due(case)
            level = clock.warning_level(case)
            changed = [f for f, old in zip(clock_fields, before, strict=True) if getattr(case, f) != old]
            if level == case.warning_level:
                if changed:  # e.g. an open pause moved the due date; not a change the applicant made
                    case.save(update_fields=changed)
                continue
            before_level = case.warning_level
            case.warning_level = level
            case.save(update_fields=[*changed, "warning_level"])
            counts[level] += 1
            due = case.due_date if case.clock_start else case.acceptance_due
            _record(
                case,
                "warning_changed",
                actor=None,
                role=SYSTEM,
                before=case.status,
                level=level,
                level_before=before_level,
                due_date=str(due),
            )
            if LEVEL_RANK[level] > LEVEL_RANK[before_level]:
                subject = _("办件已超期") if level == WarningLevel.RED else _("办件即将到期")
                body = _("办件 %(n)s（%(item)s）%(what)s，期限 %(d)s。") % {
                    "n": case.number,
                    "item": case.version.name,
                    "what": _("已超过办理期限") if level == WarningLevel.RED else _("已用去八成以上办理时限"),
                    "d": due,
                }
                for staff in responsible_staff(case):
                    notify(staff, subject, body)
    return counts
