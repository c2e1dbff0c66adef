"""The back office: the plan of a case's steps from its version's stages (并联审批: stages of one
parallel group form one step), claiming (签收), passing and returning tasks, and the decision (决定).

Locking contract: each function locks the case row, then the task rows it changes
(``select_for_update``), so that a task is claimed by exactly one person. ``decide`` produces the
decision (决定书), creates the fee order of an approved case whose item has a fee, and sends
``case_decided`` once, after its transaction commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.models import Handling
from yiwang.catalog.models import Stage as CatalogStage
from yiwang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yiwang.core.text import clause
from yiwang.identity.models import StaffRole

from .. import clock, documents
from ..models import Case, CaseDocument, CaseTask, Decision, Status, WarningLevel
from ..signals import case_decided
from ._base import Role, _as_staff, _expect, _lock, _notify_applicant, _record, _require_visible, _writing
from .fees import _create_order

log = logging.getLogger("yiwang.cases")


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
# Decision


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
        outcome = _("准予办理") if approve else _("不予办理：%(r)s") % {"r": clause(reason)}
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
