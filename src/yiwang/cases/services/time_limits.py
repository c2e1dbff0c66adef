"""Time limits (限时办结) as they are stored on cases: special procedures (特别程序, the clock stands
still), extensions (延期), due dates recomputed after the holiday calendar changed, and the warning
sweep (预警: yellow, red) of one case. The working-day arithmetic itself is ``yiwang.cases.clock``, which only
computes; this module applies its results to cases and records them.

Locking contract: staff actions lock the case row first. ``recompute_due_dates`` (rare: after the
calendar changed) takes one case per transaction and looks at its state again under the lock. The
periodic warning sweep is set-based, in ``sweep``; ``_update_warning`` applies the same rule to one
case at once when a staff action moves its due date.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.errors import Conflict, InvalidInput, NotFound
from yiwang.core.notify import notify
from yiwang.core.text import clause
from yiwang.identity.models import StaffRole

from .. import clock, documents
from ..models import (
    OPEN_STATES,
    REVIEW_STATES,
    SPECIAL_PROCEDURE_KINDS,
    Case,
    CaseDocument,
    CaseTask,
    ClockPause,
    Extension,
    PauseKind,
    Status,
    WarningLevel,
)
from ..selectors import ACCEPT_ROLES, REVIEW_ROLES
from ._base import (
    SYSTEM,
    Role,
    _as_staff,
    _expect,
    _lock,
    _notify_applicant,
    _record,
    _require_visible,
    _writing,
)

# ---------------------------------------------------------------------------------------------
# Special procedures and extensions


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
        note = _("%(label)s：%(text)s") % {"label": pause.get_kind_display(), "text": clause(reason)}
        _record(
            case,
            "special_procedure_started",
            actor=user,
            role=role,
            before=before,
            kind=kind,
            note=note,
            reason=reason,
            pause=pause.pk,
            document={"kind": notice.kind, "sm3": notice.sm3},
        )
        _notify_applicant(
            case,
            _("办件进入特别程序"),
            _("您申请的“%(item)s”进入特别程序（%(n)s），所需时间不计入办理时限。")
            % {"item": case.version.name, "n": clause(note)},
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
        _update_warning(case, [])  # the resumed clock's warning holds from now, not from the next sweep
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
            _update_warning(case, [])  # the later due date lowers the warning now, not at the next sweep
        return extension


# ---------------------------------------------------------------------------------------------
# Due dates and warnings (also run by the periodic sweep)


def _refresh_due(case: Case) -> None:
    """Recompute the stored due dates of the case and its ``yellow_on`` (not saved)."""
    if case.status == Status.SUBMITTED and case.received_on:
        due = clock.acceptance_due(case, case.received_on)
        case.acceptance_due, case.acceptance_due_provisional = due.date, due.provisional
    if case.clock_start:
        due = clock.decision_due(case)
        case.due_date, case.due_provisional = due.date, due.provisional
    case.yellow_on = clock.yellow_on(case)


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
            before = (
                case.acceptance_due,
                case.acceptance_due_provisional,
                case.due_date,
                case.due_provisional,
                case.yellow_on,
            )
            _refresh_due(case)
            for task in case.tasks.filter(
                due_provisional=True, status__in=[CaseTask.State.OPEN, CaseTask.State.CLAIMED]
            ):
                share = task.stage.time_share if task.stage_id else 0
                due = clock.stage_due(case, share, timezone.localdate(task.created_at))
                if due:
                    task.due_date, task.due_provisional = due.date, due.provisional
                    task.save(update_fields=["due_date", "due_provisional"])
            after = (
                case.acceptance_due,
                case.acceptance_due_provisional,
                case.due_date,
                case.due_provisional,
                case.yellow_on,
            )
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


def _update_warning(case: Case, changed: list[str]) -> str | None:
    """Store the warning level the (locked) case's due dates give today, saving the ``changed`` clock
    fields with it; a new level is recorded, and staff are notified when it rises. Returns the new level,
    or None when it stayed."""
    level = clock.warning_level(case)
    if level == case.warning_level:
        if changed:  # e.g. an open pause moved the due date; not a change the applicant made
            case.save(update_fields=changed)
        return None
    before_level = case.warning_level
    case.warning_level = level
    case.save(update_fields=[*changed, "warning_level"])
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
    return level
