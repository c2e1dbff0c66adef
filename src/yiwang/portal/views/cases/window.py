"""Portal pages of the comprehensive window (综窗): the window clerk finds or registers the applicant by
ID number, takes in any item of any department and prints the receipt.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.cases import material_sources, selectors, services
from yiwang.cases.models import Status
from yiwang.catalog import selectors as catalog_selectors
from yiwang.catalog.models import ItemVersion
from yiwang.core.errors import InvalidInput, NotFound, YiwangError
from yiwang.core.ids import normalize
from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import LegalPerson, NaturalPerson, StaffRole
from yiwang.portal import forms_cases as f

from ._shared import QUEUE_LIMIT, _error_page

WINDOW_PERSON = "window_person"  # session key: the applicant the window clerk is serving (a NaturalPerson pk)


def _window_offers(version: ItemVersion, person: NaturalPerson) -> dict[int, list]:
    """At the window the applicant is not the signed-in user: ask the material sources for that person."""
    return {
        requirement.pk: material_sources.offers_for(requirement, person=person)
        for requirement in version.materials.exclude(source__in=["applicant", "department"])
    }


def _clerk_or_403(request: HttpRequest) -> HttpResponse | None:
    if not identity_selectors.has_role(request.user, StaffRole.Role.WINDOW_CLERK):
        return render(
            request, "portal/cases/error.html", {"message": _("只有综窗受理员可以使用窗口收件。")}, status=403
        )
    return None


def _window_person(request: HttpRequest) -> NaturalPerson | None:
    pk = request.session.get(WINDOW_PERSON)
    return NaturalPerson.objects.filter(pk=pk).first() if pk else None


def _window_org(request: HttpRequest) -> LegalPerson | None:
    """A registered organisation named by ?org= (credit code): its data prefill the form too."""
    uscc = normalize(request.GET.get("org") or "")
    return LegalPerson.objects.filter(uscc=uscc).first() if uscc else None


@login_required
@require_http_methods(["GET", "POST"])
def window_desk(request: HttpRequest) -> HttpResponse:
    """综窗: find or register the applicant by ID number, then choose ANY item of any department."""
    denied = _clerk_or_403(request)
    if denied:
        return denied
    status = 200
    applicant_form = f.WindowApplicantForm(request.POST or None)
    # "register": the ID number is not registered yet and the clerk is filling in the registration
    registering = request.method == "POST" and request.POST.get("step") == "register"
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
            except InvalidInput as exc:
                if exc.field == "name" and not registering:
                    # an unknown number is the normal next step, not a mistake: show the registration form
                    registering = True
                else:
                    registering = registering or exc.field == "name"
                    applicant_form.show_error(exc)
                    status = exc.status
            except YiwangError as exc:
                applicant_form.show_error(exc)
                status = exc.status
            else:
                request.session[WINDOW_PERSON] = person.pk
                messages.success(
                    request,
                    _("申请人：%(who)s")
                    % {"who": _("%(name)s（%(code)s）") % {"name": person.name, "code": person.masked_id}},
                )
                return redirect("portal:window_desk")
    person = _window_person(request)
    q = (request.GET.get("q") or "").strip()[:100]
    results = catalog_selectors.search_items(q=q)[:QUEUE_LIMIT] if q else []
    context = {
        "applicant_form": applicant_form,
        "person": person,
        "q": q,
        "results": results,
        "needs_name": registering,
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
    org_form = f.WindowOrganisationForm(request.POST or None)
    # the registered applicant's data fill the form; the ID number stays masked in the page, as on the
    # desk (the services fill in the real one), and the clerk confirms the rest with the applicant
    form = f.ApplicationForm(
        version,
        request.POST or None,
        request.FILES or None,
        offers=_window_offers(version, person),
        supplied={},
        prefill=identity_selectors.prefill_values(person, _window_org(request)),
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
