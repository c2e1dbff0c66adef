"""受理: acceptance (by staff, by the window clerk, or deemed by the sweep under 行政许可法 art. 32),
refusal (不予受理), and the one-time correction request (补正, 一次性告知) with the applicant's
resubmission.

Locking contract: every public function locks the case row (``_lock``) before it reads the state;
``deem_overdue_acceptances`` takes one case per transaction and skips a case someone acted on
meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.errors import Conflict, InvalidInput
from yiwang.core.text import join_clauses, sentence

from .. import clock, documents
from ..models import Case, CaseDocument, ClockPause, CorrectionRequest, PauseKind, Status, WarningLevel
from ..selectors import ACCEPT_ROLES, REVIEW_ROLES
from ._base import (
    SYSTEM,
    _as_applicant,
    _as_staff,
    _expect,
    _lock,
    _notify_applicant,
    _now_and_today,
    _record,
    _writing,
)
from .materials import (
    _check_complete,
    _put_free_uploads,
    _put_materials,
    _requirement_key,
    _requirements,
    _use_offers,
    validate_form,
)
from .review import _open_step
from .time_limits import _refresh_due


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
    _notify_applicant(case, _("办件已受理"), _("您申请的“%(item)s”%(n)s") % {"item": case.version.name, "n": note})


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
    """Deem accepted every submitted case past its acceptance due date. Returns their numbers.

    The overdue cases are found in one query over the (status, acceptance_due) index; the acceptance
    itself (receipt, tasks, event) is per case, and applies only to them: a few a day."""
    done = []
    overdue = Case.objects.filter(status=Status.SUBMITTED, acceptance_due__lt=timezone.localdate())
    for pk in overdue.order_by("acceptance_due", "pk").values_list("pk", flat=True):
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
            case,
            _("办件不予受理"),
            _("您申请的“%(item)s”不予受理：%(r)s") % {"item": case.version.name, "r": sentence(reason)},
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
        summary = join_clauses((documents._problem_line(p) for p in problems), sep=_("；"))
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
    extra_files: Mapping | None = None,
) -> Case:
    """The applicant supplies the corrections (a new submission round). Every material named in the
    request must be supplied again; ``form_data`` is merged and validated again. ``extra_files`` maps
    the index of a correction item that names no material (其他问题) to the file that answers it. Before acceptance the
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
        _put_free_uploads(case, user, correction.items, extra_files, written)
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
            case.yellow_on = clock.yellow_on(case)
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
                m.requirement_id or f"extra_{m.correction_item}": m.sm3 or m.source_reference
                for m in case.materials.filter(round=case.submission_round)
            },
        )
        return case
