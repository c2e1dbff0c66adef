"""Shared reads of cases. Permissions are filters IN THE QUERY, never per object in Python.

Who sees a case:
- an applicant: cases where they are the applicant person or the agent (经办人), their own online
  submissions, and cases of organisations they are authorised to act for (AgentAuthorization valid
  today) — drafts included;
- a staff member: submitted cases of the departments where they hold a role, cases with a task in
  those departments (parallel stages of other departments), and window cases they took in as clerk.
Anything else is "not found", so that ids of other people's cases reveal nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case as Case_When
from django.db.models import CharField, DateField, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core import audit
from yiwang.core.calendar import working_days_since
from yiwang.core.errors import NotFound
from yiwang.core.ids import mask, normalize
from yiwang.core.text import clause, join_clauses
from yiwang.identity.models import AgentAuthorization, Department, NaturalPerson, StaffRole
from yiwang.identity.selectors import names_of_logins

from .models import (
    OPEN_STATES,
    REVIEW_STATES,
    Case,
    CaseDocument,
    CaseMaterial,
    CaseTask,
    Channel,
    Decision,
    DeliveryMethod,
    Extension,
    PauseKind,
    PaymentOrder,
    Status,
    WarningLevel,
)

Role = StaffRole.Role
# Who may act on a case, by stage; the services check the same sets (they import them from here).
ACCEPT_ROLES = frozenset({Role.WINDOW_CLERK, Role.HANDLER, Role.REVIEWER, Role.APPROVER})
REVIEW_ROLES = frozenset({Role.HANDLER, Role.REVIEWER, Role.APPROVER})


def person_of(user) -> NaturalPerson | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return NaturalPerson.objects.filter(user=user).first()


def acting_organisation_ids(user) -> QuerySet:
    """Organisations the user may act for today (经办人授权)."""
    today = timezone.localdate()
    return (
        AgentAuthorization.objects.filter(person__user=user)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .values("organisation_id")
    )


def applicant_filter(user) -> Q:
    return (
        Q(applicant_person__user=user)
        | Q(agent__user=user)
        | Q(channel=Channel.ONLINE, submitted_by=user)
        | Q(applicant_org__in=acting_organisation_ids(user))
    )


def staff_department_ids(user) -> QuerySet:
    return StaffRole.objects.filter(user=user).values("department_id")


def staff_filter(user) -> Q:
    departments = staff_department_ids(user)
    with_task_there = CaseTask.objects.filter(department__in=departments).values("case_id")
    return (Q(department__in=departments) | Q(pk__in=with_task_there) | Q(clerk=user)) & ~Q(status=Status.DRAFT)


def visible_cases(user) -> QuerySet[Case]:
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    return Case.objects.filter(applicant_filter(user) | staff_filter(user))


def is_applicant_of(user, case: Case) -> bool:
    return getattr(user, "is_authenticated", False) and Case.objects.filter(applicant_filter(user), pk=case.pk).exists()


def is_staff_of(user, case: Case) -> bool:
    return getattr(user, "is_authenticated", False) and Case.objects.filter(staff_filter(user), pk=case.pk).exists()


# ---------------------------------------------------------------------------------------------
# Time-limit marks (限时办结预警) for lists and pages, computed in the query from the stored due dates so
# that a case whose due date has passed is marked red at once, without waiting for the warning sweep.

OVERDUE_SINCE = "limit_overdue_since"  # the due date that has passed, or NULL
LIMIT_LEVEL = "limit_level"  # WarningLevel value: red (overdue), yellow (the sweep's warning), none
# The clock runs in these states; a suspended case's due date moves with every day, it is never overdue.
RUNNING_STATES = [Status.ACCEPTED, Status.IN_REVIEW]


def with_time_limit(qs: QuerySet, *, prefix: str = "", on: dt.date | None = None) -> QuerySet:
    """Annotate cases (or rows pointing to a case through ``prefix``, e.g. ``"case__"``) with
    ``limit_overdue_since`` and ``limit_level``: red when the acceptance or decision due date is past
    today, yellow when the sweep's stored warning is yellow (80 % of the working days used)."""
    on = on or timezone.localdate()
    p = prefix
    overdue_since = Case_When(
        When(Q(**{f"{p}status": Status.SUBMITTED, f"{p}acceptance_due__lt": on}), then=F(f"{p}acceptance_due")),
        When(Q(**{f"{p}status__in": RUNNING_STATES, f"{p}due_date__lt": on}), then=F(f"{p}due_date")),
        default=None,
        output_field=DateField(),
    )
    level = Case_When(
        When(Q(**{f"{p}status": Status.SUBMITTED, f"{p}acceptance_due__lt": on}), then=Value(WarningLevel.RED)),
        When(Q(**{f"{p}status__in": RUNNING_STATES, f"{p}due_date__lt": on}), then=Value(WarningLevel.RED)),
        When(
            Q(**{f"{p}status__in": list(OPEN_STATES), f"{p}warning_level": WarningLevel.YELLOW}),
            then=Value(WarningLevel.YELLOW),
        ),
        default=Value(WarningLevel.NONE),
        output_field=CharField(),
    )
    return qs.annotate(**{OVERDUE_SINCE: overdue_since, LIMIT_LEVEL: level})


def attach_overdue_days(rows, *, case_of=None, on: dt.date | None = None) -> list:
    """Set ``overdue_days`` (working days past the due date) and copy the marks onto each row's case,
    from one calendar snapshot for the whole list (no query per row). ``case_of`` maps a row to its
    case (default: the row is the case); rows come from ``with_time_limit``."""
    rows = list(rows)
    on = on or timezone.localdate()
    since = [getattr(r, OVERDUE_SINCE, None) for r in rows]
    counts = working_days_since([d for d in since if d], on)
    for row, due in zip(rows, since, strict=True):
        case = case_of(row) if case_of else row
        setattr(case, OVERDUE_SINCE, due)
        setattr(case, LIMIT_LEVEL, getattr(row, LIMIT_LEVEL, WarningLevel.NONE))
        case.overdue_days = counts[due] if due else 0
    return rows


def time_limit_of(case: Case, on: dt.date | None = None) -> Case:
    """The marks of one case (for its page): the same rule as the lists, by the same query."""
    marked = with_time_limit(Case.objects.filter(pk=case.pk), on=on).values(OVERDUE_SINCE, LIMIT_LEVEL).first()
    if marked:
        setattr(case, OVERDUE_SINCE, marked[OVERDUE_SINCE])
        setattr(case, LIMIT_LEVEL, marked[LIMIT_LEVEL])
    attach_overdue_days([case], on=on)
    return case


def _with_relations(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("version", "item", "department", "applicant_person", "applicant_org", "agent")


def cases_for_applicant(user, *, status: str | None = None, include_drafts: bool = True) -> QuerySet[Case]:
    """ "我的办件": every case the user applied for or acts for, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    qs = Case.objects.filter(applicant_filter(user))
    if not include_drafts:
        qs = qs.exclude(status=Status.DRAFT)
    if status:
        qs = qs.filter(status=status)
    return _with_relations(with_time_limit(qs)).order_by("-updated_at", "-id")


def drafts_for(user) -> QuerySet[Case]:
    return _with_relations(Case.objects.filter(status=Status.DRAFT, submitted_by=user)).order_by("-updated_at")


def case_for_user(user, pk_or_number: int | str) -> Case:
    """The case by number (or by id, for drafts) if the user may see it; otherwise NotFound."""
    qs = _with_relations(visible_cases(user))
    ref = str(pk_or_number).strip()
    case = qs.filter(number=ref).first()
    if case is None and ref.isdigit() and len(ref) < 19:
        case = qs.filter(pk=int(ref)).first()
    if case is None:
        raise NotFound(_("未找到该办件。"))
    return case


def work_queue(user, department: Department | int | None = None, role: str | None = None) -> QuerySet[CaseTask]:
    """Back-office tasks the user can work on: open tasks of (department, role) pairs the user holds,
    and the tasks the user has claimed. Optionally narrowed to one department and/or role."""
    roles = StaffRole.objects.filter(user=user)
    if department is not None:
        roles = roles.filter(department=department)
    if role:
        roles = roles.filter(role=role)
    pairs = Q(pk__in=[])
    for dep_id, role_name in roles.values_list("department_id", "role"):
        pairs |= Q(department_id=dep_id, role=role_name, status=CaseTask.State.OPEN)
    mine = Q(assignee=user, status=CaseTask.State.CLAIMED)
    if department is not None:
        mine &= Q(department=department)
    if role:
        mine &= Q(role=role)
    return (
        with_time_limit(CaseTask.objects.filter(pairs | mine), prefix="case__")
        .filter(case__status__in=[Status.ACCEPTED, Status.IN_REVIEW, Status.SUSPENDED, Status.CORRECTION_REQUESTED])
        .select_related(
            "case",
            "case__version",
            "case__department",
            "case__applicant_person",
            "case__applicant_org",
            "department",
            "assignee",
        )
        .order_by("due_date", "case__due_date", "id")
    )


def acceptance_queue(user, department: Department | int | None = None) -> QuerySet[Case]:
    """Submitted cases waiting for acceptance that the user may accept: cases of departments where the
    user is a clerk/handler/reviewer/approver, and window cases the user took in."""
    roles = StaffRole.objects.filter(user=user, role__in=ACCEPT_ROLES)
    if department is not None:
        roles = roles.filter(department=department)
    q = Q(department__in=roles.values("department_id"))
    if department is None:
        q |= Q(clerk=user)
    qs = with_time_limit(Case.objects.filter(q, status=Status.SUBMITTED))
    return _with_relations(qs).order_by("acceptance_due", "id")


def department_cases(
    user, department: Department | int | None = None, *, status: str | None = None, warning: str | None = None
) -> QuerySet[Case]:
    """All non-draft cases the user sees as staff (for lists and supervision), with optional filters."""
    qs = Case.objects.filter(staff_filter(user))
    if department is not None:
        qs = qs.filter(department=department)
    if status:
        qs = qs.filter(status=status)
    qs = with_time_limit(qs)
    if warning:
        qs = qs.filter(**{LIMIT_LEVEL: warning})
    return _with_relations(qs).order_by("due_date", "-id")


def pending_extensions(user) -> QuerySet[Extension]:
    """Extension requests waiting for an approver of the case's department."""
    departments = StaffRole.objects.filter(user=user, role=StaffRole.Role.APPROVER).values("department_id")
    return Extension.objects.filter(status=Extension.State.PENDING, case__department__in=departments).select_related(
        "case", "requested_by"
    )


def documents_for(user, case: Case) -> QuerySet[CaseDocument]:
    case = case_for_user(user, case.number or case.pk)
    return case.documents.all()


# ---------------------------------------------------------------------------------------------
# Timeline and the public progress query

ACTION_LABELS = {
    "draft_saved": gettext_lazy("保存草稿"),
    "draft_material_removed": gettext_lazy("草稿中删除材料"),
    "submitted": gettext_lazy("提交申请"),
    "accepted": gettext_lazy("受理"),
    "deemed_accepted": gettext_lazy("视为受理（逾期未作受理决定）"),
    "refused": gettext_lazy("不予受理"),
    "correction_requested": gettext_lazy("一次性告知补正"),
    "correction_resubmitted": gettext_lazy("提交补正材料"),
    "task_claimed": gettext_lazy("签收办理"),
    "task_passed": gettext_lazy("办理通过"),
    "task_returned": gettext_lazy("退回"),
    "special_procedure_started": gettext_lazy("进入特别程序（暂停计时）"),
    "special_procedure_ended": gettext_lazy("特别程序结束（恢复计时）"),
    "extension_requested": gettext_lazy("申请延期"),
    "extension_approved": gettext_lazy("批准延期"),
    "extension_rejected": gettext_lazy("不批准延期"),
    "decided": gettext_lazy("作出决定"),
    "payment_ordered": gettext_lazy("开具缴费单"),
    "payment_paid": gettext_lazy("缴费成功"),
    "completed": gettext_lazy("办结"),
    "delivered": gettext_lazy("送达"),
    "withdrawn": gettext_lazy("撤回申请"),
    "due_recomputed": gettext_lazy("重新计算办理期限"),
    "warning_changed": gettext_lazy("时限预警变化"),
}
# Views of unmasked personal data and downloads (谁查看了 / 查看记录): on the chain, listed apart.
ACCESS_LABELS = {
    "personal_data_viewed": gettext_lazy("查看完整信息"),
    "material_downloaded": gettext_lazy("下载申请材料"),
    "document_downloaded": gettext_lazy("下载文书"),
}
ACTION_LABELS.update(ACCESS_LABELS)
# Steps an applicant does not need to see (internal book-keeping of the back office).
_INTERNAL = {
    "draft_saved",
    "draft_material_removed",
    "task_claimed",
    "warning_changed",
    "extension_requested",
    "extension_rejected",
}


def _label(event) -> str:
    label = str(ACTION_LABELS.get(event.action, event.action))
    if event.action == "decided":
        return _("准予办理") if event.data.get("decision") == "approved" else _("不予办理")
    if event.action in {"task_passed", "task_returned", "task_claimed"} and event.data.get("stage"):
        return f"{event.data['stage']} · {label}"
    return label


def _note(event) -> str:
    """The event's note in the reader's language: the audit record keeps the note as written (in the
    writer's language), so notes the platform composed are composed again from the event's data."""
    data = event.data
    note = data.get("note", "")
    if not note:
        return ""
    action, due = event.action, data.get("due_date")
    if action == "accepted" and due:
        return _("已受理，办结期限 %(d)s。") % {"d": due}
    if action == "deemed_accepted" and due:
        return _("逾期未作受理决定，依照《行政许可法》第三十二条视为受理；办结期限 %(d)s。") % {"d": due}
    if action == "special_procedure_started" and "reason" in data:
        return _("%(label)s：%(text)s") % {"label": _kind_label(data.get("kind")), "text": clause(data["reason"])}
    if action == "special_procedure_ended" and due:
        return _("%(kind)s结束，恢复计时，办结期限 %(d)s。") % {"kind": _kind_label(data.get("kind")), "d": due}
    if action == "extension_approved" and due and data.get("days"):
        return _("办理期限延长%(n)d个工作日，办结期限 %(d)s。") % {"n": data["days"], "d": due}
    if action == "correction_requested" and data.get("items"):
        return join_clauses((problem_line(p) for p in data["items"]), sep=_("；"))
    if action == "delivered" and data.get("method") in DeliveryMethod.values:
        how = str(DeliveryMethod(data["method"]).label)
        if data.get("method") == DeliveryMethod.POST and "carrier" in data:
            how += _("，%(carrier)s 快递单号 %(t)s") % {
                "carrier": data["carrier"],
                "t": data.get("tracking_number", ""),
            }
        elif data.get("method") == DeliveryMethod.POST:
            return note
        return how
    return note


def _kind_label(kind: str | None) -> str:
    return str(PauseKind(kind).label) if kind in PauseKind.values else (kind or "")


def problem_line(item: dict) -> str:
    """One correction item as "subject: problem"."""
    # an item naming neither a material nor a form field is a free one: 其他问题, not the form
    subject = item.get("material_name") or item.get("field_label") or item.get("field") or _("其他问题")
    return _("%(label)s：%(text)s") % {"label": subject, "text": clause(item.get("problem"))}


def timeline(case: Case, *, audience: str = "applicant") -> list[dict[str, Any]]:
    """Events of the case, oldest first. ``audience``: "staff" (actor, role, comments), "applicant"
    (what happened, which department, reasons addressed to the applicant) or "public" (no personal data)."""
    out: list[dict[str, Any]] = []
    for event in audit.history(case).exclude(action__in=list(ACCESS_LABELS)):
        if audience != "staff" and event.action in _INTERNAL:
            continue
        entry: dict[str, Any] = {
            "at": event.at,
            "action": event.action,
            "label": _label(event),
            "department": event.data.get("department", ""),
            "status": event.data.get("after", ""),
        }
        if audience in {"staff", "applicant"}:
            entry["note"] = _note(event)
        if audience == "staff":
            entry["actor"] = event.actor  # the login, as recorded
            entry["role"] = event.actor_role
        out.append(entry)
    if audience == "staff":  # people read names, not logins: one query for all actors
        names = names_of_logins(e["actor"] for e in out)
        for entry in out:
            entry["actor_name"] = names.get(entry["actor"], "")
    return out


def access_log(case: Case, *, audience: str = "applicant") -> list[dict[str, Any]]:
    """Who viewed the case's unmasked personal data or downloaded its materials and documents, newest
    first (X-Road's data tracker): for "staff" (谁查看了) with the person's name, for the applicant
    (查看记录) with the department and post only."""
    events = audit.history(case).filter(action__in=list(ACCESS_LABELS)).order_by("-seq")
    out = []
    for event in events:
        role = event.actor_role
        entry = {
            "at": event.at,
            "label": str(ACCESS_LABELS[event.action]),
            "what": event.data.get("what", ""),
            "department": event.data.get("department", ""),
            "role": role,
            "role_label": str(ACCESS_ROLE_LABELS.get(role, role)),
        }
        if audience == "staff":
            entry["actor"] = event.actor
        out.append(entry)
    if audience == "staff":
        names = names_of_logins(e["actor"] for e in out)
        for entry in out:
            entry["actor_name"] = names.get(entry["actor"], entry["actor"])
    return out


ACCESS_ROLE_LABELS = {**dict(Role.choices), "applicant": gettext_lazy("申请人本人")}


# ---------------------------------------------------------------------------------------------
# Personal data on the case's pages and answers: masked unless the viewer is entitled

# kinds shown in full only after an explicit, logged 查看完整信息, even to the handling staff
FULL_VIEW_KINDS = frozenset({"id_number", "account"})


def personal_kind(spec: dict[str, Any]) -> str | None:
    """Which personal datum a field of an application form holds (a key of ``core.ids.MASKS``), if any."""
    kind, name, label = spec.get("type"), str(spec.get("name", "")).lower(), str(spec.get("label", ""))
    if kind == "id_number":
        return "id_number"
    if kind == "phone" or "phone" in name or "电话" in label or "手机" in label:
        return "phone"
    if "account" in name or "账号" in label or "卡号" in label:
        return "account"
    if "address" in name or "地址" in label or "住所" in label:
        return "address"
    return None


def disclosure(user, case: Case) -> str:
    """How much personal data of ``case`` the viewer may see in clear: "applicant" (the person
    themself, or who acts for them: everything), "handling" (the staff of a department handling the
    case, in a handling post: phone numbers and addresses; ID numbers and accounts after 查看完整信息)
    or "masked" (anyone else who sees the case: supervisors, the window clerk after the desk)."""
    if is_applicant_of(user, case):
        return "applicant"
    departments = StaffRole.objects.filter(user=user, role__in=REVIEW_ROLES).values("department_id")
    if case.department_id in {d["department_id"] for d in departments}:
        return "handling"
    if CaseTask.objects.filter(case=case, department__in=departments).exists():
        return "handling"
    return "masked"


def masked_form_data(case: Case, *, level: str, full: bool = False) -> dict[str, Any]:
    """The case's form data as ``disclosure`` level ``level`` may see it; ``full``: after 查看完整信息."""
    data = dict(case.form_data or {})
    if level == "applicant":
        return data
    for spec in case.version.form_schema or []:
        if not isinstance(spec, dict) or not data.get(spec.get("name")):
            continue
        kind = personal_kind(spec)
        clear = (level == "handling" and full) if kind in FULL_VIEW_KINDS else level == "handling"
        if kind and not clear:
            data[spec["name"]] = mask(kind, str(data[spec["name"]]))
    return data


def shown_address(value: str, level: str) -> str:
    """An address of the case (delivery) as ``level`` may see it."""
    return value if level in {"applicant", "handling"} else mask("address", value)


def current_departments(case: Case) -> list[str]:
    """Who holds the case now: the departments of its active tasks, else the implementing department."""
    return current_departments_of([case])[case.pk]


def current_departments_of(cases: list[Case]) -> dict[int, list[str]]:
    """``current_departments`` for a list of cases, by one query (case pk → names)."""
    held: dict[int, set[str]] = {case.pk: set() for case in cases}
    active = CaseTask.objects.filter(case__in=list(held), status__in=[CaseTask.State.OPEN, CaseTask.State.CLAIMED])
    for case_id, name in active.values_list("case_id", "department__name"):
        held[case_id].add(name)
    return {
        case.pk: sorted(held[case.pk]) or ([case.department.name] if case.status in OPEN_STATES else [])
        for case in cases
    }


def progress_query(number: str, id_last4: str) -> dict[str, Any]:
    """Public progress by 办件编号 + the last 4 characters of the applicant's ID number (or credit code).

    Reveals only the item, status, current department, due date and a timeline without personal data.
    A wrong number and a wrong code give the same NotFound, so that the query confirms nothing.
    """
    number = normalize(number)
    code = normalize(id_last4)
    case = (
        Case.objects.filter(number=number, applicant_id_last4=code)
        .exclude(status=Status.DRAFT)
        .select_related("version", "department")
        .first()
        if len(code) == 4
        else None
    )
    if case is None:
        raise NotFound(_("未查询到办件，请核对办件编号和证件号码后四位。"))
    return {
        "number": case.number,
        "item": case.version.name,
        "department": case.department.name,
        "status": case.status,
        "status_display": case.get_status_display(),
        "current_departments": current_departments(case),
        "submitted_at": case.submitted_at,
        "due_date": case.due_date,
        "due_provisional": case.due_provisional,
        "timeline": timeline(case, audience="public"),
    }


def document_for(user, case_ref: int | str, document_id: int) -> CaseDocument:
    """A generated document of a case the user may see (applicant or staff); else NotFound."""
    case = case_for_user(user, case_ref)
    document = case.documents.filter(pk=document_id).first()
    if document is None:
        raise NotFound(_("未找到该文书。"))
    return document


def material_for(user, case_ref: int | str, material_id: int) -> CaseMaterial:
    """An uploaded material of a case the user may see; else NotFound."""
    case = case_for_user(user, case_ref)
    material = case.materials.filter(pk=material_id).exclude(file="").select_related("requirement").first()
    if material is None:
        raise NotFound(_("未找到该材料。"))
    return material


def applicant_todo(case: Case) -> list[dict[str, Any]]:
    """What the applicant must do now: supply corrections (every item listed), pay a fee order."""
    return applicant_todo_of([case])[case.pk]


def applicant_todo_of(cases: list[Case]) -> dict[int, list[dict[str, Any]]]:
    """``applicant_todo`` for a list of cases, by two queries (case pk → to-do entries)."""
    from .models import CorrectionRequest

    todo: dict[int, list[dict[str, Any]]] = {case.pk: [] for case in cases}
    waiting = {c.pk: c.submission_round for c in cases if c.status == Status.CORRECTION_REQUESTED}
    if waiting:
        for correction in CorrectionRequest.objects.filter(case__in=list(waiting)).order_by("pk"):
            if correction.round == waiting[correction.case_id] and not todo[correction.case_id]:
                label = _("请一次性补正以下内容")
                todo[correction.case_id].append({"kind": "correction", "label": label, "items": correction.items})
    unpaid = PaymentOrder.objects.filter(case__in=list(todo), status=PaymentOrder.State.UNPAID).order_by("pk")
    for order in unpaid:
        entry = {"kind": "payment", "label": _("请缴纳费用"), "order": order.number, "amount": str(order.amount)}
        todo[order.case_id].append(entry)
    return todo


def fee_settled(case: Case) -> bool:
    """Whether the fee rule lets the case complete: no fee, fee after completion, or a paid order."""
    if case.decision != Decision.APPROVED or case.version.fee <= 0 or not case.version.fee_before_completion:
        return True
    return (
        case.payments.filter(status=PaymentOrder.State.PAID).exists()
        and not case.payments.filter(status=PaymentOrder.State.UNPAID).exists()
    )


def available_actions(user, case: Case) -> list[str]:
    """The actions ``user`` may try on ``case`` now, for showing buttons (the services still decide).

    Names match the API paths: submit, edit, delete (drafts); withdraw, resubmit, pay (applicant);
    accept, refuse, request-correction, claim, pass, return, decide, special-procedure,
    special-procedure-end, extension, extension-approve, payment, complete, deliver (staff).
    """
    out: list[str] = []
    status = case.status
    if is_applicant_of(user, case):
        if status == Status.DRAFT:
            out += ["submit", "edit", "delete"]
        if status in OPEN_STATES:
            out.append("withdraw")
        if status == Status.CORRECTION_REQUESTED:
            out.append("resubmit")
        if case.payments.filter(status=PaymentOrder.State.UNPAID).exists():
            out.append("pay")
    if status == Status.DRAFT or not is_staff_of(user, case):
        return out
    roles = set(StaffRole.objects.filter(user=user, department=case.department).values_list("role", flat=True))
    clerk = case.channel == Channel.WINDOW and case.clerk_id == user.pk
    can_accept = clerk or bool(roles & set(ACCEPT_ROLES))
    can_review = bool(roles & set(REVIEW_ROLES))
    mine = case.tasks.filter(assignee=user, status=CaseTask.State.CLAIMED)
    holds = mine.exists()
    corrected_this_round = case.corrections.filter(round=case.submission_round).exists()
    if status == Status.SUBMITTED and can_accept:
        out += ["accept", "refuse"] + ([] if corrected_this_round else ["request-correction"])
    if status in {Status.ACCEPTED, Status.IN_REVIEW}:
        pairs = set(StaffRole.objects.filter(user=user).values_list("department_id", "role"))
        if any((t.department_id, t.role) in pairs for t in case.tasks.filter(status=CaseTask.State.OPEN)):
            out.append("claim")
        if mine.exclude(kind="decide").exists():
            out += ["pass", "return"]
        decide_task = mine.filter(kind="decide").first()
        immediate = case.version.handling == "1" and (clerk or roles & {"window_clerk", "approver"})
        if immediate or (
            decide_task
            and not case.tasks.filter(step=decide_task.step, status__in=["open", "claimed"])
            .exclude(pk=decide_task.pk)
            .exists()
        ):
            out.append("decide")
        if (can_review or holds) and not corrected_this_round:
            out.append("request-correction")
        if can_review or holds:
            out.append("special-procedure")
    if status == Status.SUSPENDED and (can_review or holds):
        out.append("special-procedure-end")
    pending_extension = case.extensions.filter(status=Extension.State.PENDING).exists()
    if status in REVIEW_STATES and (can_review or holds) and not pending_extension:
        out.append("extension")
    if "approver" in roles and pending_extension:
        out.append("extension-approve")
    if status in {Status.APPROVED, Status.DENIED} and can_accept and fee_settled(case):
        out.append("complete")
    if (
        can_accept
        and status in OPEN_STATES | {Status.APPROVED, Status.COMPLETED}
        and case.version.fee > 0
        and not case.payments.filter(status=PaymentOrder.State.UNPAID).exists()
        and not case.payments.filter(status=PaymentOrder.State.PAID).exists()
    ):
        out.append("payment")
    if status == Status.COMPLETED and can_accept:
        out.append("deliver")
    return out


def offers_for_application(user, version, *, organisation=None) -> dict[int, list]:
    """For the application form: the offers (licences, shared data) that could satisfy each material of
    ``version`` for the user (or the organisation they act for), keyed by requirement id."""
    from . import material_sources

    person = None if organisation is not None else person_of(user)
    if person is None and organisation is None:
        return {}
    return {
        requirement.pk: material_sources.offers_for(requirement, person=person, organisation=organisation)
        for requirement in version.materials.exclude(source__in=["applicant", "department"])
    }
