"""Portal pages for department staff: the workbench queues (to accept, to claim, mine, suspended,
yellow/red warnings, to complete and deliver, extensions) and the staff case page with every action
of the state machine. Which buttons appear comes from ``selectors.available_actions``; the services
still decide.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiwang.cases import clock, selectors, services, supervision
from yiwang.cases.models import Case, CaseMaterial, CaseTask, Extension, PaymentOrder, Status, WarningLevel
from yiwang.core.errors import NotFound, YiwangError
from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import StaffRole
from yiwang.licences import selectors as licence_selectors
from yiwang.portal import forms_cases as f

from ._shared import QUEUE_LIMIT, WARNING_TAGS, _case_facts, _material_views

ROLE_LABELS = {
    **dict(StaffRole.Role.choices),
    "applicant": gettext_lazy("申请人"),
    "system": gettext_lazy("系统"),
    "payment_provider": gettext_lazy("支付渠道"),
}


def _form_rows(case: Case, data: dict) -> list[tuple[str, str]]:
    """The application form as (label, value) with option labels and 是/否, in the schema's order
    (``data``: the form data as the viewer may see it, ``selectors.masked_form_data``)."""
    rows = []
    for spec in case.version.form_schema or []:
        if not isinstance(spec, dict) or spec.get("name") not in data:
            continue
        value = data[spec["name"]]
        if spec.get("type") == "checkbox":
            value = _("是") if value else _("否")
        elif spec.get("type") == "select":
            for option in spec.get("options", []):
                if isinstance(option, dict) and str(option.get("value")) == str(value):
                    value = option.get("label", value)
        rows.append((spec.get("label") or spec["name"], "" if value is None else str(value)))
    return rows


def _is_staff(user) -> bool:
    return bool(identity_selectors.roles_of(user))


def _staff_or_403(request: HttpRequest) -> HttpResponse | None:
    if not _is_staff(request.user):
        return render(request, "portal/cases/error.html", {"message": _("工作台仅供工作人员使用。")}, status=403)
    return None


def _supervision_summary(user) -> dict | None:
    """For a supervisor: the red and yellow counts of the supervised regions, linking to the supervision page."""
    if not supervision.is_supervisor(user):
        return None
    cases = supervision.supervised_cases(user)
    return {
        "red": cases.filter(**{selectors.LIMIT_LEVEL: WarningLevel.RED}).count(),
        "yellow": cases.filter(**{selectors.LIMIT_LEVEL: WarningLevel.YELLOW}).count(),
    }


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    """Queues of the staff member, per department and role: to accept, to claim, mine, suspended,
    warnings (yellow/red), to complete and deliver, extensions to approve."""
    denied = _staff_or_403(request)
    if denied:
        return denied
    user = request.user
    my_roles = list(StaffRole.objects.filter(user=user).select_related("department").order_by("department__name"))
    departments = {r.department_id: r.department for r in my_roles}
    department = (
        departments.get(int(request.GET["department"])) if request.GET.get("department", "").isdigit() else None
    )
    role = request.GET.get("role") if request.GET.get("role") in {r.role for r in my_roles} else None
    tasks = selectors.attach_overdue_days(
        selectors.work_queue(user, department, role)[: QUEUE_LIMIT * 2], case_of=lambda t: t.case
    )
    cases = selectors.department_cases(user, department)
    marked = selectors.attach_overdue_days  # each list gets its time-limit marks with one calendar look-up
    context = {
        "roles": my_roles,
        "departments": list(departments.values()),
        "role_choices": sorted({(r.role, r.get_role_display()) for r in my_roles}),
        "department": department,
        "role": role,
        "is_clerk": any(r.role == StaffRole.Role.WINDOW_CLERK for r in my_roles),
        "to_accept": marked(selectors.acceptance_queue(user, department)[:QUEUE_LIMIT]),
        "to_claim": [t for t in tasks if t.status == CaseTask.State.OPEN][:QUEUE_LIMIT],
        "mine": [t for t in tasks if t.status == CaseTask.State.CLAIMED][:QUEUE_LIMIT],
        "in_review": marked(cases.filter(status__in=[Status.ACCEPTED, Status.IN_REVIEW])[:QUEUE_LIMIT]),
        "suspended": marked(cases.filter(status=Status.SUSPENDED)[:QUEUE_LIMIT]),
        "correction": marked(cases.filter(status=Status.CORRECTION_REQUESTED)[:QUEUE_LIMIT]),
        "red": marked(selectors.department_cases(user, department, warning=WarningLevel.RED)[:QUEUE_LIMIT]),
        "yellow": marked(selectors.department_cases(user, department, warning=WarningLevel.YELLOW)[:QUEUE_LIMIT]),
        "to_complete": marked(cases.filter(status__in=[Status.APPROVED, Status.DENIED])[:QUEUE_LIMIT]),
        "to_deliver": marked(cases.filter(status=Status.COMPLETED)[:QUEUE_LIMIT]),
        "extensions": selectors.pending_extensions(user)[:QUEUE_LIMIT],
        "supervision": _supervision_summary(user),
        "warning_tags": WARNING_TAGS,
    }
    return render(request, "portal/cases/workbench.html", context)


@login_required
@require_POST
def workbench_open(request: HttpRequest) -> HttpResponse:
    number = (request.POST.get("number") or "").strip()
    return redirect("portal:staff_case", ref=number) if number else redirect("portal:workbench")


def _staff_case(request: HttpRequest, ref: str) -> Case:
    """A case the user sees as staff (department, parallel task, or the clerk who took it in); else 404."""
    case = selectors.department_cases(request.user).filter(number=ref).first()
    if case is None:
        raise Http404(_("未找到该办件。"))
    return case


def _supervised_only(request: HttpRequest, ref: str) -> Case | None:
    """A case the user sees only as supervisor (on the supervision list, not of their own departments)."""
    if selectors.department_cases(request.user).filter(number=ref).exists():
        return None
    return supervision.supervised_case(request.user, ref)


def _read_only_403(request: HttpRequest) -> HttpResponse:
    message = _("监督员只能查看办件，不能办理。")
    return render(request, "portal/cases/error.html", {"message": message}, status=403)


def _accept(user, case, form):
    services.accept_case(user, case.pk)
    return _("已受理，受理回执已生成。")


def _refuse(user, case, form):
    services.refuse_case(user, case.pk, reason=form.cleaned_data["reason"])
    return _("已作出不予受理决定，不予受理通知书已生成。")


def _request_correction(user, case, form):
    services.request_correction(user, case.pk, items=form.items())
    return _("已一次性告知补正内容，补正告知书已生成。")


def _claim(user, case, form):
    services.claim_task(user, case.pk)
    return _("已签收。")


def _pass(user, case, form):
    services.pass_task(user, case.pk, comment=form.cleaned_data["comment"])
    return _("已办理通过，转入下一环节。")


def _return(user, case, form):
    services.return_task(user, case.pk, comment=form.cleaned_data["comment"])
    return _("已退回上一环节。")


def _decide(user, case, form):
    approve = form.cleaned_data["decision"] == "approve"
    services.decide(user, case.pk, approve=approve, reason=form.cleaned_data["reason"])
    return _("已作出准予办理的决定，决定书已生成。") if approve else _("已作出不予办理的决定，决定书已生成。")


def _start_special(user, case, form):
    services.start_special_procedure(user, case.pk, kind=form.cleaned_data["kind"], reason=form.cleaned_data["reason"])
    return _("已启动特别程序，暂停计时并告知申请人。")


def _end_special(user, case, form):
    services.end_special_procedure(user, case.pk, result=form.cleaned_data["result"])
    return _("特别程序已结束，恢复计时。")


def _request_extension(user, case, form):
    services.request_extension(user, case.pk, days=form.cleaned_data["days"], reason=form.cleaned_data["reason"])
    return _("延期申请已提交，待审批人审批。")


def _approve_extension(user, case, form):
    pk = form.cleaned_data.get("extension")
    if pk is None:
        pending = case.extensions.filter(status=Extension.State.PENDING).first()
        pk = pending.pk if pending else None
    if pk is None:
        raise NotFound(_("未找到该延期申请。"))
    approve = form.cleaned_data["decision"] == "approve"
    services.approve_extension(user, pk, approve=approve, comment=form.cleaned_data["comment"])
    return _("已批准延期。") if approve else _("已不批准延期。")


def _payment_order(user, case, form):
    services.create_payment_order(user, case.pk, amount=form.cleaned_data["amount"] or None)
    return _("缴费单已开具，已通知申请人。")


def _complete(user, case, form):
    services.complete_case(user, case.pk)
    return _("已办结。")


def _deliver(user, case, form):
    services.deliver(
        user,
        case.pk,
        method=form.cleaned_data["method"] or case.delivery_method,
        recipient=form.cleaned_data["recipient"],
        phone=form.cleaned_data["phone"],
        address=form.cleaned_data["address"],
        carrier=form.cleaned_data["carrier"],
        tracking_number=form.cleaned_data["tracking_number"],
    )
    return _("已送达。")


# action name (as in selectors.available_actions) → (form factory or None, view function calling the service)
ACTIONS: dict[str, tuple[Any, Any]] = {
    "accept": (None, _accept),
    "refuse": (lambda case, data: f.ReasonForm(data), _refuse),
    "request-correction": (lambda case, data: f.CorrectionRequestForm(case.version, data), _request_correction),
    "claim": (None, _claim),
    "pass": (lambda case, data: f.CommentForm(data), _pass),
    "return": (lambda case, data: f.ReturnForm(data), _return),
    "decide": (lambda case, data: f.DecideForm(data), _decide),
    "special-procedure": (lambda case, data: f.SpecialProcedureForm(data), _start_special),
    "special-procedure-end": (lambda case, data: f.EndSpecialProcedureForm(data), _end_special),
    "extension": (lambda case, data: f.ExtensionForm(data), _request_extension),
    "extension-approve": (lambda case, data: f.ExtensionDecisionForm(data), _approve_extension),
    "payment": (lambda case, data: f.PaymentOrderForm(data), _payment_order),
    "complete": (None, _complete),
    "deliver": (
        lambda case, data: f.DeliverForm(
            data, initial={"method": case.delivery_method, "address": case.delivery_address}
        ),
        _deliver,
    ),
}


def _render_staff_case(
    request,
    case: Case,
    *,
    failed: str = "",
    bound=None,
    error: str = "",
    status=200,
    read_only: bool = False,
    full_view: bool = False,
):
    actions = [] if read_only else selectors.available_actions(request.user, case)
    forms = {}
    for name in actions:
        factory = ACTIONS.get(name, (None, None))[0]
        if factory is None:
            continue
        forms[name.replace("-", "_")] = bound if name == failed and bound is not None else factory(case, None)
    pending = case.extensions.filter(status=Extension.State.PENDING).first()
    if "extension_approve" in forms and pending and not forms["extension_approve"].is_bound:
        forms["extension_approve"] = f.ExtensionDecisionForm(initial={"extension": pending.pk})
    timeline = selectors.timeline(case, audience="staff")
    for entry in timeline:
        entry["role_label"] = ROLE_LABELS.get(entry.get("role"), entry.get("role", ""))
        if entry.get("role") in {"system", "payment_provider"}:  # not a person: its label is its name
            entry["actor_name"], entry["role_label"] = entry["role_label"], ""
    tasks = list(case.tasks.select_related("department", "assignee"))
    for task in tasks:
        task.role_label = ROLE_LABELS.get(task.role, task.role)
    materials = _material_views(case)
    # the licence record behind a 免提交 material, for every department reviewing the case (parallel ones too)
    refs = [
        m["material"].source_reference
        for m in materials
        if m["material"] and m["material"].satisfied_by == CaseMaterial.SatisfiedBy.LICENCE
    ]
    openable = set()
    if refs:
        visible = licence_selectors.visible_licences(request.user).filter(identifier__in=refs)
        openable = set(visible.values_list("identifier", flat=True))
    for m in materials:
        m["licence_link"] = bool(m["material"]) and m["material"].source_reference in openable
    level = selectors.disclosure(request.user, case)
    delivery = getattr(case, "delivery", None) if case.status == Status.DELIVERED else None
    context = {
        "case": case,
        "actions": {name.replace("-", "_") for name in actions},
        "forms": forms,
        "failed": failed.replace("-", "_"),
        "error": error,
        "form_rows": _form_rows(case, selectors.masked_form_data(case, level=level, full=full_view)),
        "full_view": full_view,
        "can_view_full": level == "handling" and not full_view and not read_only,
        "delivery_address": selectors.shown_address(case.delivery_address, level),
        "delivered_address": selectors.shown_address(getattr(delivery, "address", ""), level),
        "access_log": selectors.access_log(case, audience="staff"),
        "materials": materials,
        "all_materials": case.materials.select_related("requirement").order_by("round", "requirement__order"),
        "timeline": timeline,
        "documents": case.documents.all(),
        "tasks": tasks,
        "pauses": case.pauses.all(),
        "extensions": case.extensions.select_related("requested_by", "decided_by"),
        "corrections": case.corrections.all(),
        "orders": case.payments.all(),
        "delivery": delivery,
        "time": clock.time_used(case),
        "pending_extension": pending,
        "unpaid": case.payments.filter(status=PaymentOrder.State.UNPAID).exists(),
        "read_only": read_only,
        **_case_facts(case),
    }
    return render(request, "portal/cases/staff_case.html", context, status=status)


@login_required
def staff_case(request: HttpRequest, ref: str) -> HttpResponse:
    denied = _staff_or_403(request)
    if denied:
        return denied
    supervised = _supervised_only(request, ref)
    if supervised is not None:  # 效能监督: the page without any action
        return _render_staff_case(request, selectors.time_limit_of(supervised), read_only=True)
    return _render_staff_case(request, selectors.time_limit_of(_staff_case(request, ref)))


@login_required
@require_POST
def staff_case_full(request: HttpRequest, ref: str) -> HttpResponse:
    """查看完整信息: the same page with the ID numbers and accounts in full; the view is logged first."""
    denied = _staff_or_403(request)
    if denied:
        return denied
    if _supervised_only(request, ref) is not None:
        return _read_only_403(request)
    case = _staff_case(request, ref)
    try:
        services.view_personal_data(request.user, case)
    except YiwangError as exc:
        return render(request, "portal/cases/error.html", {"message": exc.message}, status=exc.status)
    return _render_staff_case(request, selectors.time_limit_of(case), full_view=True)


@login_required
@require_POST
def staff_action(request: HttpRequest, ref: str, action: str) -> HttpResponse:
    """One action of the state machine on the case; a business error (e.g. someone else acted first)
    re-renders the case page with its Chinese message."""
    denied = _staff_or_403(request)
    if denied:
        return denied
    if _supervised_only(request, ref) is not None:
        return _read_only_403(request)
    if action not in ACTIONS:
        raise Http404(_("未知的操作。"))
    case = _staff_case(request, ref)
    factory, run = ACTIONS[action]
    form = factory(case, request.POST) if factory else None
    if form is not None and not form.is_valid():
        return _render_staff_case(request, selectors.time_limit_of(case), failed=action, bound=form, status=400)
    try:
        message = run(request.user, case, form)
    except YiwangError as exc:
        if form is not None:
            form.show_error(exc)
        case.refresh_from_db()
        selectors.time_limit_of(case)
        return _render_staff_case(request, case, failed=action, bound=form, error=exc.message, status=exc.status)
    messages.success(request, message)
    return redirect("portal:staff_case", ref=case.number)
