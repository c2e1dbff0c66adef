"""Portal pages for case handling (办件). Thin: they read with ``yiwang.cases.selectors``, change state only
through ``yiwang.cases.services``, and show a business error's Chinese message (on its field when it
names one). Which buttons appear comes from ``selectors.available_actions``; the services still decide.

- applicants: apply online from a guide (form generated from the item version, uploads or licence reuse,
  drafts), the confirmation with the case number, 我的办件, a case page (timeline, corrections, payment,
  documents, withdrawal);
- anyone: the progress query by case number + the last four characters of the applicant's ID number;
- window clerks (综窗): find or register the applicant, take in any item, print the receipt;
- departments: the workbench queues and the staff case page with every action of the state machine.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.cases import clock, material_sources, selectors, services
from yiwang.cases.api import ProgressThrottle
from yiwang.cases.models import Case, CaseMaterial, CaseTask, Extension, PaymentOrder, Status, WarningLevel
from yiwang.catalog import selectors as catalog_selectors
from yiwang.catalog.models import ItemVersion
from yiwang.core.errors import Conflict, NotFound, YiwangError
from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import NaturalPerson, StaffRole
from yiwang.portal import forms_cases as f

PER_PAGE = 20
QUEUE_LIMIT = 50
WINDOW_PERSON = "window_person"  # session key: the applicant the window clerk is serving (a NaturalPerson pk)

WARNING_TAGS = {WarningLevel.YELLOW: "warn", WarningLevel.RED: "danger"}
STATUS_TAGS = {
    Status.APPROVED: "ok",
    Status.COMPLETED: "ok",
    Status.DELIVERED: "ok",
    Status.CORRECTION_REQUESTED: "warn",
    Status.SUSPENDED: "warn",
    Status.REFUSED: "danger",
    Status.DENIED: "danger",
}
SOURCE_LABELS = {
    "identifier": gettext_lazy("证照标识"),
    "name": gettext_lazy("证照名称"),
    "number": gettext_lazy("证照编号"),
    "issuer": gettext_lazy("颁发机构"),
    "issue_date": gettext_lazy("颁发日期"),
    "holder": gettext_lazy("持证主体"),
    "holder_code": gettext_lazy("持证主体代码"),
    "valid_from": gettext_lazy("有效期起"),
    "valid_until": gettext_lazy("有效期至"),
    "status": gettext_lazy("状态"),
}
ROLE_LABELS = {
    **dict(StaffRole.Role.choices),
    "applicant": gettext_lazy("申请人"),
    "system": gettext_lazy("系统"),
    "payment_provider": gettext_lazy("支付渠道"),
}


# ---------------------------------------------------------------------------------------------
# Shared helpers (presentation only)


def _error_page(request: HttpRequest, exc: YiwangError) -> HttpResponse:
    return render(request, "portal/cases/error.html", {"message": exc.message}, status=exc.status)


def _status_tag(case: Case) -> str:
    return STATUS_TAGS.get(case.status, "")


def _window_offers(version: ItemVersion, person: NaturalPerson) -> dict[int, list]:
    """At the window the applicant is not the signed-in user: ask the material sources for that person."""
    return {
        requirement.pk: material_sources.offers_for(requirement, person=person)
        for requirement in version.materials.exclude(source__in=["applicant", "department"])
    }


def _supplied(case: Case) -> dict[int, CaseMaterial]:
    return services.current_materials(case)


def _form_rows(case: Case) -> list[tuple[str, str]]:
    """The application form as (label, value) with option labels and 是/否, in the schema's order."""
    rows = []
    data = case.form_data or {}
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


def _source_rows(data: dict) -> list[tuple[str, str]]:
    rows = []
    for key, value in (data or {}).items():
        if isinstance(value, dict):
            rows.extend((str(k), "" if v is None else str(v)) for k, v in value.items())
        else:
            rows.append((str(SOURCE_LABELS.get(key, key)), "" if value is None else str(value)))
    return rows


def _material_views(case: Case) -> list[dict]:
    current = _supplied(case)
    out = []
    for requirement in case.version.materials.all():
        material = current.get(requirement.pk)
        out.append(
            {
                "requirement": requirement,
                "material": material,
                "source_rows": _source_rows(material.source_data) if material and material.source_data else [],
            }
        )
    return out


def _case_facts(case: Case) -> dict[str, Any]:
    return {
        "holders": selectors.current_departments(case),
        "status_tag": _status_tag(case),
        "warning_tag": WARNING_TAGS.get(case.warning_level, ""),
    }


def _is_staff(user) -> bool:
    return bool(identity_selectors.roles_of(user))


# ---------------------------------------------------------------------------------------------
# Applying online


def _applicant_choices(request: HttpRequest):
    person = selectors.person_of(request.user)
    organisations = list(identity_selectors.organisations_for(person)) if person else []
    label = f"{person.name}（{person.masked_id}）" if person else ""
    return person, organisations, label


def _chosen_org(organisations: list, uscc: str | None):
    return next((o for o in organisations if o.uscc == uscc), None) if uscc else None


def _render_apply(request, version, form, *, draft=None, status=200) -> HttpResponse:
    context = {
        "version": version,
        "item": version.item,
        "form": form,
        "rows": form.bound_rows(),
        "draft": draft,
        "files_lost": request.method == "POST" and bool(request.FILES),
    }
    return render(request, "portal/cases/apply.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, code: str) -> HttpResponse:
    """A new online application for the item's current version: save it as a draft or submit it."""
    try:
        version = catalog_selectors.get_current_version(code)
    except NotFound as exc:
        return _error_page(request, exc)
    person, organisations, label = _applicant_choices(request)
    if person is None:
        return render(request, "portal/cases/need_identity.html", {"version": version}, status=403)
    posted_org = request.POST.get("applicant_org") if request.method == "POST" else None
    if posted_org is None and version.service_object == "organisation" and organisations:
        posted_org = organisations[0].uscc
    organisation = _chosen_org(organisations, posted_org)
    form = f.ApplicationForm(
        version,
        request.POST or None,
        request.FILES or None,
        offers=selectors.offers_for_application(request.user, version, organisation=organisation),
        organisations=organisations,
        applicant_label=label,
    )
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action")
        common = {
            "form_data": form.form_data(),
            "files": form.files_data(),
            "offers": form.offers_data(),
            "applicant_org": form.applicant_org() or None,
            **form.delivery(),
        }
        try:
            if action == "submit":
                case = services.submit_case(
                    request.user, item=version.item, idempotency_key=form.cleaned_data["idempotency_key"], **common
                )
                return redirect("portal:case_submitted", ref=case.number)
            draft = services.save_draft(request.user, item=version.item, **common)
        except YiwangError as exc:
            form.show_error(exc)
            return _render_apply(request, version, form, status=exc.status)
        messages.success(request, _("草稿已保存。您可以随时在“我的办件”中继续填写。"))
        return redirect("portal:draft", pk=draft.pk)
    return _render_apply(request, version, form, status=400 if form.errors else 200)


def _draft_or_former(request: HttpRequest, pk: int) -> Case:
    """The user's draft, or the case it became (a second click of a double click arrives after the
    first submitted it); anything else is 404."""
    case = selectors.drafts_for(request.user).filter(pk=pk).first()
    if case is not None:
        return case
    try:
        case = selectors.case_for_user(request.user, pk)
    except NotFound:
        raise Http404(_("未找到该草稿。")) from None
    if case.status == Status.DRAFT or not selectors.is_applicant_of(request.user, case):
        raise Http404(_("未找到该草稿。"))
    return case


def _submit_draft(request: HttpRequest, case: Case, form: f.ApplicationForm, common: dict) -> Case:
    """Submit the draft. The same request twice (same idempotency key and content) gives the same case,
    also when the second one waited for the first and found the draft already submitted."""
    key = form.cleaned_data["idempotency_key"]
    try:
        return services.submit_case(request.user, case=case.pk, idempotency_key=key, **common)
    except Conflict:
        if not key or selectors.drafts_for(request.user).filter(pk=case.pk).exists():
            raise
        # the racing first click committed meanwhile: asking again finds its case by the key
        return services.submit_case(request.user, case=case.pk, idempotency_key=key, **common)


@login_required
@require_http_methods(["GET", "POST"])
def draft(request: HttpRequest, pk: int) -> HttpResponse:
    """Continue a saved draft: save again, submit, or delete it."""
    case = _draft_or_former(request, pk)
    action = request.POST.get("action") if request.method == "POST" else None
    if case.status != Status.DRAFT and action != "submit":
        return redirect("portal:case_detail", ref=case.number)
    person, organisations, label = _applicant_choices(request)
    supplied = _supplied(case)
    posted_org = request.POST.get("applicant_org") if request.method == "POST" else None
    organisation = _chosen_org(organisations, posted_org) if posted_org is not None else case.applicant_org
    initial = f.initial_for(case)
    for req_id, material in supplied.items():
        if material.source_reference:
            initial[f"{f.OFFER_PREFIX}{req_id}"] = material.source_reference
    offers = selectors.offers_for_application(request.user, case.version, organisation=organisation)
    for req_id, found in offers.items():
        key = f"{f.OFFER_PREFIX}{req_id}"
        if len(found) == 1 and key in initial:
            initial[key] = initial[key] == found[0].reference
    form = f.ApplicationForm(
        case.version,
        request.POST or None,
        request.FILES or None,
        offers=offers,
        organisations=organisations,
        applicant_label=label,
        supplied=supplied,
        initial=initial,
    )
    if request.method == "POST":
        if action == "delete":
            try:
                services.delete_draft(request.user, case.pk)
            except YiwangError as exc:
                return _error_page(request, exc)
            messages.success(request, _("草稿已删除。"))
            return redirect("portal:my_cases")
        if form.is_valid():
            common = {
                "form_data": form.form_data(),
                "files": form.files_data(),
                "offers": form.offers_data(),
                **form.delivery(),
            }
            chosen_org = form.applicant_org()
            try:
                if action == "submit":
                    # submit_case(case=…) takes no applicant_org: a changed choice is saved to the draft first
                    current_org = case.applicant_org.uscc if case.applicant_org_id else ""
                    if case.status == Status.DRAFT and chosen_org is not None and chosen_org != current_org:
                        services.save_draft(request.user, case=case.pk, applicant_org=chosen_org)
                    submitted = _submit_draft(request, case, form, common)
                    return redirect("portal:case_submitted", ref=submitted.number)
                services.save_draft(request.user, case=case.pk, applicant_org=chosen_org, **common)
            except YiwangError as exc:
                form.show_error(exc)
                case.refresh_from_db()
                return _render_apply(request, case.version, form, draft=case, status=exc.status)
            messages.success(request, _("草稿已保存。"))
            return redirect("portal:draft", pk=case.pk)
    return _render_apply(request, case.version, form, draft=case, status=400 if form.errors else 200)


def _applicant_case(request: HttpRequest, ref: str) -> Case:
    """A case the user applied for (or acts for); anything else is 404, whoever else may see it."""
    try:
        case = selectors.case_for_user(request.user, ref)
    except NotFound as exc:
        raise Http404(exc.message) from None
    if case.status == Status.DRAFT or not selectors.is_applicant_of(request.user, case):
        raise Http404(_("未找到该办件。"))
    return case


@login_required
def case_submitted(request: HttpRequest, ref: str) -> HttpResponse:
    case = _applicant_case(request, ref)
    return render(request, "portal/cases/submitted.html", {"case": case})


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    """我的办件: drafts to continue, then every case with its status, holder, due date and what to do."""
    drafts = list(selectors.drafts_for(request.user)[:QUEUE_LIMIT])
    page = Paginator(selectors.cases_for_applicant(request.user, include_drafts=False), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [{"case": case, "todo": selectors.applicant_todo(case), **_case_facts(case)} for case in page]
    return render(request, "portal/cases/my_cases.html", {"drafts": drafts, "page": page, "rows": rows})


def _resubmit_form(user, case: Case, data=None, files=None) -> f.ApplicationForm | None:
    correction = case.corrections.filter(round=case.submission_round).first()
    if case.status != Status.CORRECTION_REQUESTED or correction is None:
        return None
    fields = {p["field"] for p in correction.items if p.get("field")}
    materials = {p["material"] for p in correction.items if p.get("material")}
    return f.ApplicationForm(
        case.version,
        data,
        files,
        offers=selectors.offers_for_application(user, case.version, organisation=case.applicant_org),
        only_fields=fields,
        only_materials=materials,
        with_applicant=False,
        with_delivery=False,
        initial=f.initial_for(case),
    )


def _render_case(request, case: Case, *, resubmit=None, withdraw=None, error="", status=200) -> HttpResponse:
    actions = selectors.available_actions(request.user, case)
    context = {
        "case": case,
        "error": error,
        "actions": actions,
        "timeline": selectors.timeline(case, audience="applicant"),
        "todo": selectors.applicant_todo(case),
        "documents": selectors.documents_for(request.user, case),
        "materials": _material_views(case),
        "orders": case.payments.all(),
        "resubmit_form": resubmit or (_resubmit_form(request.user, case) if "resubmit" in actions else None),
        "withdraw_form": withdraw or f.WithdrawForm(),
        "delivery": getattr(case, "delivery", None) if case.status == Status.DELIVERED else None,
        **_case_facts(case),
    }
    if context["resubmit_form"] is not None:
        context["resubmit_rows"] = context["resubmit_form"].bound_rows()
    return render(request, "portal/cases/case_detail.html", context, status=status)


@login_required
def case_detail(request: HttpRequest, ref: str) -> HttpResponse:
    return _render_case(request, _applicant_case(request, ref))


@login_required
@require_POST
def case_resubmit(request: HttpRequest, ref: str) -> HttpResponse:
    """补正: the applicant supplies everything the correction request listed."""
    case = _applicant_case(request, ref)
    form = _resubmit_form(request.user, case, request.POST, request.FILES)
    if form is None:
        try:  # not waiting for corrections (any more): the service says why
            services.resubmit_correction(request.user, case.pk)
        except YiwangError as exc:
            return _error_page(request, exc)
        return redirect("portal:case_detail", ref=case.number)
    if form.is_valid():
        try:
            services.resubmit_correction(
                request.user,
                case.pk,
                form_data=form.form_data(),
                files=form.files_data(),
                offers=form.offers_data(),
            )
        except YiwangError as exc:
            form.show_error(exc)
            return _render_case(request, case, resubmit=form, status=exc.status)
        messages.success(request, _("补正材料已提交。"))
        return redirect("portal:case_detail", ref=case.number)
    return _render_case(request, case, resubmit=form, status=400)


@login_required
@require_POST
def case_withdraw(request: HttpRequest, ref: str) -> HttpResponse:
    case = _applicant_case(request, ref)
    form = f.WithdrawForm(request.POST)
    form.is_valid()
    try:
        services.withdraw(request.user, case.pk, reason=form.cleaned_data.get("reason", ""))
    except YiwangError as exc:
        form.show_error(exc)
        case.refresh_from_db()
        return _render_case(request, case, withdraw=form, error=exc.message, status=exc.status)
    messages.success(request, _("申请已撤回。"))
    return redirect("portal:case_detail", ref=case.number)


@login_required
@require_http_methods(["GET", "POST"])
def case_pay(request: HttpRequest, ref: str, order: str) -> HttpResponse:
    """The development cashier: confirm and the provider's signed callback marks the order paid."""
    case = _applicant_case(request, ref)
    found = case.payments.filter(number=order).first()
    if found is None:
        raise Http404(_("未找到该缴费单。"))
    if request.method == "POST":
        try:
            services.simulate_payment(request.user, found.number)
        except YiwangError as exc:
            return render(
                request,
                "portal/cases/pay.html",
                {"case": case, "order": found, "error": exc.message},
                status=exc.status,
            )
        messages.success(request, _("缴费成功。"))
        return redirect("portal:case_detail", ref=case.number)
    return render(request, "portal/cases/pay.html", {"case": case, "order": found})


# ---------------------------------------------------------------------------------------------
# Files


def _pdf_or_file(stored, filename: str, *, inline: bool, content_type: str = "") -> FileResponse:
    response = FileResponse(stored.open("rb"), as_attachment=not inline, filename=filename)
    if content_type:
        response["Content-Type"] = content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def case_document(request: HttpRequest, ref: str, document_id: int) -> HttpResponse:
    """A notice or decision of the case (applicant or entitled staff); ?inline=1 opens it for printing."""
    try:
        document = selectors.document_for(request.user, ref, document_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    filename = f"{document.case.number}-{document.get_kind_display()}.pdf"
    return _pdf_or_file(
        document.file, filename, inline=request.GET.get("inline") == "1", content_type="application/pdf"
    )


@login_required
def case_material(request: HttpRequest, ref: str, material_id: int) -> HttpResponse:
    """An uploaded material, always as a download (uploaded content is never shown inline)."""
    try:
        material = selectors.material_for(request.user, ref, material_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    ext = material.file.name.rsplit(".", 1)[-1]
    filename = material.original_name or f"{material.requirement.name}.{ext}"
    return _pdf_or_file(material.file, filename, inline=False, content_type=material.content_type)


# ---------------------------------------------------------------------------------------------
# Public progress query


@require_http_methods(["GET", "POST"])
def progress(request: HttpRequest) -> HttpResponse:
    """进度查询 without logging in: case number + the last four characters of the applicant's ID."""
    form = f.ProgressQueryForm(request.POST or None)
    result = None
    status = 200
    if request.method == "POST" and not ProgressThrottle().allow_request(request, None):
        form.add_error(None, _("查询过于频繁，请一分钟后再试。"))
        status = 429
    elif request.method == "POST" and form.is_valid():
        try:
            result = selectors.progress_query(form.cleaned_data["number"], form.cleaned_data["id_last4"])
        except YiwangError as exc:
            form.show_error(exc)
            status = exc.status
    return render(request, "portal/cases/progress.html", {"form": form, "result": result}, status=status)


# ---------------------------------------------------------------------------------------------
# Window (综窗)


def _clerk_or_403(request: HttpRequest) -> HttpResponse | None:
    if not identity_selectors.has_role(request.user, StaffRole.Role.WINDOW_CLERK):
        return render(
            request, "portal/cases/error.html", {"message": _("只有综窗受理员可以使用窗口收件。")}, status=403
        )
    return None


def _window_person(request: HttpRequest) -> NaturalPerson | None:
    pk = request.session.get(WINDOW_PERSON)
    return NaturalPerson.objects.filter(pk=pk).first() if pk else None


@login_required
@require_http_methods(["GET", "POST"])
def window_desk(request: HttpRequest) -> HttpResponse:
    """综窗: find or register the applicant by ID number, then choose ANY item of any department."""
    denied = _clerk_or_403(request)
    if denied:
        return denied
    status = 200
    applicant_form = f.WindowApplicantForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("action") == "clear":
            request.session.pop(WINDOW_PERSON, None)
            return redirect("portal:window_desk")
        if applicant_form.is_valid():
            data = applicant_form.cleaned_data
            try:
                person = services.register_person(
                    id_number=data["id_number"],
                    name=data["name"],
                    phone=data["phone"],
                    address=data["address"],
                    clerk=request.user,
                )
            except YiwangError as exc:
                applicant_form.show_error(exc)
                status = exc.status
            else:
                request.session[WINDOW_PERSON] = person.pk
                messages.success(request, _("申请人：%(who)s") % {"who": f"{person.name}（{person.masked_id}）"})
                return redirect("portal:window_desk")
    person = _window_person(request)
    q = (request.GET.get("q") or "").strip()[:100]
    results = catalog_selectors.search_items(q=q)[:QUEUE_LIMIT] if q else []
    context = {
        "applicant_form": applicant_form,
        "person": person,
        "q": q,
        "results": results,
        "needs_name": "name" in applicant_form.errors,
        "recent": selectors.department_cases(request.user).filter(clerk=request.user)[:10],
    }
    return render(request, "portal/cases/window.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def window_apply(request: HttpRequest, code: str) -> HttpResponse:
    """Take in one application at the window for the applicant being served (channel window)."""
    denied = _clerk_or_403(request)
    if denied:
        return denied
    person = _window_person(request)
    if person is None:
        messages.warning(request, _("请先查找或登记申请人。"))
        return redirect("portal:window_desk")
    try:
        version = catalog_selectors.get_current_version(code)
    except NotFound as exc:
        return _error_page(request, exc)
    org_form = f.WindowOrganisationForm(request.POST or None, initial={"accept": True})
    form = f.ApplicationForm(
        version, request.POST or None, request.FILES or None, offers=_window_offers(version, person), supplied={}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid() and org_form.is_valid():
            try:
                case = services.start_window_case(
                    request.user,
                    item=version.item,
                    id_number=person.id_number,
                    org_uscc=org_form.cleaned_data["org_uscc"],
                    org_name=org_form.cleaned_data["org_name"],
                    form_data=form.form_data(),
                    files=form.files_data(),
                    offers=form.offers_data(),
                    accept=org_form.cleaned_data["accept"],
                    idempotency_key=form.cleaned_data["idempotency_key"],
                    **form.delivery(),
                )
            except YiwangError as exc:
                (org_form if org_form.field_for(str(exc.field or "")) else form).show_error(exc)
                status = exc.status
            else:
                if case.status == Status.ACCEPTED:
                    messages.success(
                        request, _("已收件并受理，办件编号 %(n)s。请打印受理回执交申请人。") % {"n": case.number}
                    )
                else:
                    messages.success(request, _("已收件，办件编号 %(n)s，待部门受理。") % {"n": case.number})
                return redirect("portal:staff_case", ref=case.number)
        else:
            status = 400
    context = {
        "version": version,
        "item": version.item,
        "person": person,
        "form": form,
        "org_form": org_form,
        "rows": form.bound_rows(),
    }
    return render(request, "portal/cases/window_apply.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# Back office: workbench and the staff case page


def _staff_or_403(request: HttpRequest) -> HttpResponse | None:
    if not _is_staff(request.user):
        return render(request, "portal/cases/error.html", {"message": _("工作台仅供工作人员使用。")}, status=403)
    return None


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
    tasks = list(selectors.work_queue(user, department, role)[: QUEUE_LIMIT * 2])
    cases = selectors.department_cases(user, department)
    context = {
        "roles": my_roles,
        "departments": list(departments.values()),
        "role_choices": sorted({(r.role, r.get_role_display()) for r in my_roles}),
        "department": department,
        "role": role,
        "is_clerk": any(r.role == StaffRole.Role.WINDOW_CLERK for r in my_roles),
        "to_accept": selectors.acceptance_queue(user, department)[:QUEUE_LIMIT],
        "to_claim": [t for t in tasks if t.status == CaseTask.State.OPEN][:QUEUE_LIMIT],
        "mine": [t for t in tasks if t.status == CaseTask.State.CLAIMED][:QUEUE_LIMIT],
        "in_review": cases.filter(status__in=[Status.ACCEPTED, Status.IN_REVIEW])[:QUEUE_LIMIT],
        "suspended": cases.filter(status=Status.SUSPENDED)[:QUEUE_LIMIT],
        "correction": cases.filter(status=Status.CORRECTION_REQUESTED)[:QUEUE_LIMIT],
        "red": selectors.department_cases(user, department, warning=WarningLevel.RED)[:QUEUE_LIMIT],
        "yellow": selectors.department_cases(user, department, warning=WarningLevel.YELLOW)[:QUEUE_LIMIT],
        "to_complete": cases.filter(status__in=[Status.APPROVED, Status.DENIED])[:QUEUE_LIMIT],
        "to_deliver": cases.filter(status=Status.COMPLETED)[:QUEUE_LIMIT],
        "extensions": selectors.pending_extensions(user)[:QUEUE_LIMIT],
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
    approve = form.cleaned_data["decision"] != "deny"
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
    approve = form.cleaned_data["decision"] != "reject"
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


def _render_staff_case(request, case: Case, *, failed: str = "", bound=None, error: str = "", status=200):
    actions = selectors.available_actions(request.user, case)
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
    tasks = list(case.tasks.select_related("department", "assignee"))
    for task in tasks:
        task.role_label = ROLE_LABELS.get(task.role, task.role)
    context = {
        "case": case,
        "actions": {name.replace("-", "_") for name in actions},
        "forms": forms,
        "failed": failed.replace("-", "_"),
        "error": error,
        "form_rows": _form_rows(case),
        "materials": _material_views(case),
        "all_materials": case.materials.select_related("requirement").order_by("round", "requirement__order"),
        "timeline": timeline,
        "documents": case.documents.all(),
        "tasks": tasks,
        "pauses": case.pauses.all(),
        "extensions": case.extensions.select_related("requested_by", "decided_by"),
        "corrections": case.corrections.all(),
        "orders": case.payments.all(),
        "delivery": getattr(case, "delivery", None) if case.status == Status.DELIVERED else None,
        "time": clock.time_used(case),
        "pending_extension": pending,
        "unpaid": case.payments.filter(status=PaymentOrder.State.UNPAID).exists(),
        **_case_facts(case),
    }
    return render(request, "portal/cases/staff_case.html", context, status=status)


@login_required
def staff_case(request: HttpRequest, ref: str) -> HttpResponse:
    denied = _staff_or_403(request)
    if denied:
        return denied
    return _render_staff_case(request, _staff_case(request, ref))


@login_required
@require_POST
def staff_action(request: HttpRequest, ref: str, action: str) -> HttpResponse:
    """One action of the state machine on the case; a business error (e.g. someone else acted first)
    re-renders the case page with its Chinese message."""
    denied = _staff_or_403(request)
    if denied:
        return denied
    if action not in ACTIONS:
        raise Http404(_("未知的操作。"))
    case = _staff_case(request, ref)
    factory, run = ACTIONS[action]
    form = factory(case, request.POST) if factory else None
    if form is not None and not form.is_valid():
        return _render_staff_case(request, case, failed=action, bound=form, status=400)
    try:
        message = run(request.user, case, form)
    except YiwangError as exc:
        if form is not None:
            form.show_error(exc)
        case.refresh_from_db()
        return _render_staff_case(request, case, failed=action, bound=form, error=exc.message, status=exc.status)
    messages.success(request, message)
    return redirect("portal:staff_case", ref=case.number)


urlpatterns = [
    path("items/<str:code>/apply/", apply, name="apply"),
    path("my/drafts/<int:pk>/", draft, name="draft"),
    path("my/cases/", my_cases, name="my_cases"),
    path("my/cases/<str:ref>/", case_detail, name="case_detail"),
    path("my/cases/<str:ref>/submitted/", case_submitted, name="case_submitted"),
    path("my/cases/<str:ref>/resubmit/", case_resubmit, name="case_resubmit"),
    path("my/cases/<str:ref>/withdraw/", case_withdraw, name="case_withdraw"),
    path("my/cases/<str:ref>/pay/<str:order>/", case_pay, name="case_pay"),
    path("cases/<str:ref>/documents/<int:document_id>/", case_document, name="case_document"),
    path("cases/<str:ref>/materials/<int:material_id>/", case_material, name="case_material"),
    path("progress/", progress, name="progress"),
    path("window/", window_desk, name="window_desk"),
    path("window/items/<str:code>/", window_apply, name="window_apply"),
    path("workbench/", workbench, name="workbench"),
    path("workbench/open/", workbench_open, name="workbench_open"),
    path("workbench/cases/<str:ref>/", staff_case, name="staff_case"),
    path("workbench/cases/<str:ref>/<str:action>/", staff_action, name="staff_action"),
]
