"""Portal pages for applicants: apply online from a guide (form generated from the item version,
uploads or licence reuse, drafts), the confirmation with the case number, 我的办件, the case page
(timeline, corrections and resubmission, payment, withdrawal), and the downloads of a case's
documents and materials (which entitled staff use too).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.cases import selectors, services
from yiwang.cases.models import Case, Status
from yiwang.catalog import selectors as catalog_selectors
from yiwang.core.errors import Conflict, NotFound, YiwangError
from yiwang.identity import selectors as identity_selectors
from yiwang.portal import forms_cases as f

from ._shared import PER_PAGE, QUEUE_LIMIT, _case_facts, _error_page, _material_views, _supplied


def _applicant_choices(request: HttpRequest):
    person = selectors.person_of(request.user)
    organisations = list(identity_selectors.organisations_for(person)) if person else []
    label = _("%(name)s（%(code)s）") % {"name": person.name, "code": person.masked_id} if person else ""
    return person, organisations, label


def _chosen_org(organisations: list, uscc: str | None):
    return next((o for o in organisations if o.uscc == uscc), None) if uscc else None


def _render_apply(request, version, form, *, draft=None, status=200) -> HttpResponse:
    kept = draft is not None and request.method == "POST" and any(r["supplied"] for r in form.material_rows)
    context = {
        "version": version,
        "item": version.item,
        "form": form,
        "rows": form.bound_rows(),
        "draft": draft,
        "files_kept": kept and bool(request.FILES),
        "files_lost": request.method == "POST" and bool(request.FILES) and not kept,
        # a draft of a version that no longer takes online applications can only be deleted
        "online_open": draft is None or catalog_selectors.can_apply_online(draft.version),
        # a new application prefills from the applicant chosen by ?org=: one link per choice to refill
        "prefill_choices": (
            form.fields["applicant_org"].choices
            if draft is None and "applicant_org" in form.fields and len(form.fields["applicant_org"].choices) > 1
            else []
        ),
    }
    return render(request, "portal/cases/apply.html", context, status=status)


def _failed_on_draft(request, version, form: f.ApplicationForm, exc: YiwangError, draft: Case, **form_kwargs):
    """The page again after a failed submission whose good uploads the draft kept: the same entries,
    every error, and the kept files shown as 已上传 (posting on now goes to the draft)."""
    supplied = _supplied(draft)
    again = f.ApplicationForm(version, request.POST, request.FILES, supplied=supplied, **form_kwargs)
    again.is_valid()
    again.show_error(exc)
    return _render_apply(request, version, again, draft=draft, status=exc.status)


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, code: str) -> HttpResponse:
    """A new online application for the item's current version: save it as a draft or submit it."""
    try:
        version = catalog_selectors.online_version(catalog_selectors.get_item(code))
    except YiwangError as exc:
        return _error_page(request, exc)
    person, organisations, label = _applicant_choices(request)
    if person is None:
        return render(request, "portal/cases/need_identity.html", {"version": version}, status=403)
    # the acting organisation: as posted, or on opening the page the one chosen by ?org= (its data prefill)
    posted_org = request.POST.get("applicant_org") if request.method == "POST" else request.GET.get("org")
    if posted_org is None and version.service_object == "organisation" and organisations:
        posted_org = organisations[0].uscc
    organisation = _chosen_org(organisations, posted_org)
    form_kwargs = {
        "offers": selectors.offers_for_application(request.user, version, organisation=organisation),
        "organisations": organisations,
        "applicant_label": label,
        "prefill": identity_selectors.prefill_values(person, organisation),
    }
    if organisation is not None and request.method == "GET":
        form_kwargs["initial"] = {"applicant_org": organisation.uscc}
    form = f.ApplicationForm(version, request.POST or None, request.FILES or None, **form_kwargs)
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
            kept = selectors.drafts_for(request.user).filter(pk=exc.extra.get("draft")).first()
            if kept is not None:
                return _failed_on_draft(request, version, form, exc, kept, **form_kwargs)
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
    form_kwargs = {
        "offers": offers,
        "organisations": organisations,
        "applicant_label": label,
        "initial": initial,
        "prefill": identity_selectors.prefill_values(person, organisation),
    }
    form = f.ApplicationForm(
        case.version, request.POST or None, request.FILES or None, supplied=supplied, **form_kwargs
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
            common["applicant_org"] = form.applicant_org()
            try:
                if action == "submit":
                    submitted = _submit_draft(request, case, form, common)
                    return redirect("portal:case_submitted", ref=submitted.number)
                services.save_draft(request.user, case=case.pk, **common)
            except YiwangError as exc:
                case.refresh_from_db()
                if case.status == Status.DRAFT:
                    return _failed_on_draft(request, case.version, form, exc, case, **form_kwargs)
                form.show_error(exc)
                return _render_apply(request, case.version, form, draft=case, status=exc.status)
            messages.success(request, _("草稿已保存。"))
            return redirect("portal:draft", pk=case.pk)
    return _render_apply(request, case.version, form, draft=case, status=400 if form.errors else 200)


@login_required
@require_POST
def draft_remove_material(request: HttpRequest, pk: int, requirement: int) -> HttpResponse:
    """删除 / 不再使用: drop one material of the draft (its upload, or the licence chosen for it)."""
    case = selectors.drafts_for(request.user).filter(pk=pk).first()
    if case is None:
        raise Http404(_("未找到该草稿。"))
    try:
        services.remove_draft_material(request.user, case.pk, requirement)
    except YiwangError as exc:
        return _error_page(request, exc)
    messages.success(request, _("已从草稿中删除该材料。"))
    return redirect(f"{reverse('portal:draft', args=[case.pk])}#material-row-{requirement}")


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
    cases = selectors.attach_overdue_days(page.object_list)
    holders, todo = selectors.current_departments_of(cases), selectors.applicant_todo_of(cases)
    rows = [{"case": c, "todo": todo[c.pk], **_case_facts(c, holders=holders[c.pk])} for c in cases]
    return render(request, "portal/cases/my_cases.html", {"drafts": drafts, "page": page, "rows": rows})


def _resubmit_form(user, case: Case, data=None, files=None) -> f.ApplicationForm | None:
    correction = case.corrections.filter(round=case.submission_round).first()
    if case.status != Status.CORRECTION_REQUESTED or correction is None:
        return None
    fields = {p["field"] for p in correction.items if p.get("field")}
    materials = {p["material"] for p in correction.items if p.get("material")}
    extras = [(i, p) for i, p in enumerate(correction.items) if not p.get("field") and not p.get("material")]
    return f.ApplicationForm(
        case.version,
        data,
        files,
        offers=selectors.offers_for_application(user, case.version, organisation=case.applicant_org),
        only_fields=fields,
        only_materials=materials,
        with_applicant=False,
        with_delivery=False,
        extra_items=extras,
        initial=f.initial_for(case),
    )


def _render_case(request, case: Case, *, resubmit=None, withdraw=None, error="", status=200) -> HttpResponse:
    selectors.time_limit_of(case)
    actions = selectors.available_actions(request.user, case)
    context = {
        "case": case,
        "error": error,
        "actions": actions,
        "timeline": selectors.timeline(case, audience="applicant"),
        "access_log": selectors.access_log(case, audience="applicant"),
        "todo": selectors.applicant_todo(case),
        "documents": selectors.documents_for(request.user, case),
        "materials": _material_views(case),
        "free_materials": services.free_materials(case),
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
                extra_files=form.extras_data(),
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
    services.record_download(request.user, document=document)
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
    filename = material.original_name or f"{material.display_name}.{ext}"
    services.record_download(request.user, material=material)
    return _pdf_or_file(material.file, filename, inline=False, content_type=material.content_type)
