"""Portal pages for the licences app. Thin: they call yiwang.licences services and selectors only.

- 我的证照 (wallet, 一人一档/一企一档) and a licence page (亮证: QR code, PDF and file downloads,
  versions, uses; the issuer's staff also change / suspend / resume / revoke / renew there);
- the public verification pages: upload a licence file, or land from a scanned QR code.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yiwang.core.errors import Forbidden, InvalidInput, YiwangError
from yiwang.licences import selectors, services
from yiwang.licences.display import data_rows, metadata_rows
from yiwang.licences.files import envelope_bytes, file_name, licence_pdf, qr_data_uri, verify_url
from yiwang.licences.models import Licence
from yiwang.licences.selectors import Access
from yiwang.licences.verification import (
    MAX_FILE_BYTES,
    QR_TOKEN_TTL,
    SHOW_CHOICES,
    check_scanned,
    make_qr_token,
    verify_file,
    verify_licence,
)


def _error(request, exc: YiwangError):
    return render(request, "portal/licences/error.html", {"message": exc.message}, status=exc.status)


@login_required
@require_GET
def my_licences(request):
    """我的证照: grouped by holder (the person, then each organisation they act for)."""
    holders = selectors.wallet_holders(request.user)
    by_holder: dict[str, list[Licence]] = {h["digest"]: [] for h in holders}
    for licence in selectors.wallet(request.user):
        by_holder.setdefault(licence.holder_digest, []).append(licence)
    groups = [{**h, "licences": by_holder[h["digest"]]} for h in holders]
    issued = list(selectors.issued_by(request.user)[:50])
    return render(request, "portal/licences/my_licences.html", {"groups": groups, "issued": issued})


def _shown(request) -> set[str]:
    return {s for s in request.GET.getlist("show") if s in SHOW_CHOICES}


def _qr_context(licence: Licence, show: set[str]) -> dict:
    token = make_qr_token(licence, show)
    url = verify_url(licence, token)
    return {
        "licence": licence,
        "qr_png": qr_data_uri(url),
        "qr_url": url,
        "qr_ttl_minutes": QR_TOKEN_TTL // 60,
        "show": show,
        "show_choices": SHOW_CHOICES.items(),
    }


@login_required
@require_GET
def licence_detail(request, identifier: str):
    """亮证: the licence as its holder, its issuer or a reviewing department may see it."""
    try:
        licence, access = selectors.licence_for(request.user, identifier)
    except YiwangError as exc:
        return _error(request, exc)
    context = {
        "licence": licence,
        "access": access,
        "status": services.effective_status(licence),
        "status_label": Licence.Status(services.effective_status(licence)).label,
        "metadata": metadata_rows(licence, access),
        "data": data_rows(licence),
        "problems": verify_licence(licence).problems,
        "versions": selectors.versions_of(licence),
        "uses": selectors.uses_of(licence) if access != Access.REVIEWER else [],
        "can_download": access in (Access.HOLDER, Access.ISSUER),
        "is_issuer": access == Access.ISSUER and licence.is_current,
        "change_fields": [
            {"name": spec["name"], "label": spec["label"], "value": licence.data.get(spec["name"], "")}
            for spec in licence.licence_type.fields
        ],
    }
    if access == Access.HOLDER and licence.is_current:
        context.update(_qr_context(licence, _shown(request) if "show" in request.GET else {"holder"}))
    return render(request, "portal/licences/detail.html", context)


@login_required
@require_GET
def licence_qr(request, identifier: str):
    """A fresh QR code (htmx fragment): the code expires after a few minutes."""
    try:
        licence, access = selectors.licence_for(request.user, identifier)
        if access != Access.HOLDER:
            raise Forbidden(_("只有持证人可以出示证照。"))
    except YiwangError as exc:
        return _error(request, exc)
    return render(request, "portal/licences/_qr.html", _qr_context(licence, _shown(request)))


def _own(request, identifier: str) -> Licence:
    licence, access = selectors.licence_for(request.user, identifier)
    if access not in (Access.HOLDER, Access.ISSUER):
        raise Forbidden(_("只有持证人和颁发机构可以下载证照文件。"))
    return licence


@login_required
@require_GET
def licence_pdf_download(request, identifier: str):
    try:
        licence = _own(request, identifier)
    except YiwangError as exc:
        return _error(request, exc)
    response = HttpResponse(licence_pdf(licence), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{file_name(licence, "pdf")}"'
    return response


@login_required
@require_GET
def licence_file_download(request, identifier: str):
    try:
        licence = _own(request, identifier)
    except YiwangError as exc:
        return _error(request, exc)
    response = HttpResponse(envelope_bytes(licence), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name(licence, "ylic")}"'
    return response


@login_required
@require_POST
def licence_action(request, identifier: str):
    """The issuer's staff: 变更 / 暂扣 / 恢复 / 撤销 / 延续, each with a reason."""
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "")
    try:
        licence, access = selectors.licence_for(request.user, identifier)
        if access != Access.ISSUER:
            raise Forbidden(_("只有颁发机构的工作人员可以办理此操作。"))
        if action == "suspend":
            result = services.suspend_licence(licence, actor=request.user, reason=reason)
        elif action == "resume":
            result = services.resume_licence(licence, actor=request.user, reason=reason)
        elif action == "revoke":
            result = services.revoke_licence(licence, actor=request.user, reason=reason)
        elif action == "renew":
            result = services.renew_licence(
                licence, actor=request.user, reason=reason, valid_until=_date(request.POST.get("valid_until"))
            )
        elif action == "change":
            data = {
                spec["name"]: request.POST.get(f"data_{spec['name']}", "").strip()
                for spec in licence.licence_type.fields
                if f"data_{spec['name']}" in request.POST
            }
            result = services.change_licence(
                licence, actor=request.user, reason=reason, data=data, holder_name=request.POST.get("holder_name")
            )
        else:
            raise InvalidInput(_("请选择要办理的操作。"), field="action")
    except YiwangError as exc:
        messages.error(request, exc.message)
        return redirect("portal:licence_detail", identifier=identifier)
    messages.success(request, _("已办理：%(a)s。") % {"a": ACTION_LABELS[action]})
    return redirect("portal:licence_detail", identifier=result.identifier)


ACTION_LABELS = {
    "suspend": gettext_lazy("暂扣"),
    "resume": gettext_lazy("恢复"),
    "revoke": gettext_lazy("撤销"),
    "renew": gettext_lazy("延续"),
    "change": gettext_lazy("变更"),
}


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("日期格式应为 YYYY-MM-DD。"), field="valid_until") from None


@require_http_methods(["GET", "POST"])
def licence_verify(request):
    """核验证照 (public): upload a .ylic file or a licence PDF."""
    verdict = None
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("请选择要核验的证照文件（.ylic 或证照 PDF）。")
        elif upload.size > MAX_FILE_BYTES:
            error = _("文件过大（超过 5 MB），不是电子证照文件。")
        else:
            try:
                verdict = verify_file(upload.read())
            except InvalidInput as exc:  # nested too deep to be read at all
                error = exc.message
    status = 400 if error else 200
    context = {"verdict": verdict, "error": error, "public_url": settings.YIWANG_PUBLIC_URL.rstrip("/")}
    return render(request, "portal/licences/verify.html", context, status=status)


@require_GET
def licence_check(request, identifier: str):
    """The page a scanned QR code opens (public)."""
    verdict = check_scanned(identifier, request.GET.get("t", ""))
    return render(request, "portal/licences/check.html", {"verdict": verdict, "identifier": identifier})


urlpatterns = [
    path("licences/", my_licences, name="my_licences"),
    path("licences/verify/", licence_verify, name="licence_verify"),
    path("licences/verify/<str:identifier>/", licence_check, name="licence_check"),
    path("licences/<str:identifier>/", licence_detail, name="licence_detail"),
    path("licences/<str:identifier>/qr/", licence_qr, name="licence_qr"),
    path("licences/<str:identifier>/pdf/", licence_pdf_download, name="licence_pdf"),
    path("licences/<str:identifier>/file/", licence_file_download, name="licence_file"),
    path("licences/<str:identifier>/action/", licence_action, name="licence_action"),
]
