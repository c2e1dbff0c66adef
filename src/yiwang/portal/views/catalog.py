"""Portal pages for the catalog: home, search, service guide and its PDF. Thin: they call the catalog
selectors (reads only) and turn business errors into a page with the message."""

from __future__ import annotations

import mimetypes
from functools import partial
from pathlib import Path

from django.db.models import Exists, OuterRef
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.catalog import guide, selectors, services
from yiwang.catalog.models import Handling, ItemType, ItemVersion, OnlineDepth, Theme
from yiwang.catalog.services import can_manage_catalog
from yiwang.core.errors import InvalidInput, NotFound
from yiwang.identity import selectors as identity_selectors
from yiwang.identity.models import Department, Region

PER_PAGE = 10


def home(request: HttpRequest) -> HttpResponse:
    overview = selectors.catalog_overview()
    zero_visit = selectors.search_items(zero_visit=True)[:8]
    site_region = Region.objects.filter(level=Region.Level.CITY).order_by("code").first()
    context = {"overview": overview, "zero_visit_items": zero_visit, "site_region": site_region}
    return render(request, "portal/home.html", context)


def _filter_choices() -> dict:
    # one indexed EXISTS per department / region, not a join over every item of the province
    in_force = ItemVersion.objects.filter(ItemVersion.in_force())
    return {
        "themes": Theme.choices,
        "item_types": ItemType.choices,
        "handlings": Handling.choices,
        "depths": OnlineDepth.choices,
        "departments": Department.objects.filter(Exists(in_force.filter(item__department=OuterRef("pk")))).order_by(
            "name"
        ),
        "regions": Region.objects.filter(Exists(in_force.filter(item__region=OuterRef("pk")))).order_by("code"),
    }


def search(request: HttpRequest) -> HttpResponse:
    error = None
    try:
        filters = selectors.parse_filters(request.GET)
    except InvalidInput as exc:
        error = exc.message
        filters = selectors.SearchFilters(q=(request.GET.get("q") or "").strip()[:100])
    results = selectors.search_items(filters)
    page = selectors.paginate(results, request.GET.get("page", 1), PER_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    suggestion = results.suggestion
    suggestion_query = query.copy()
    suggestion_query["q"] = suggestion or ""
    context = {
        "filters": filters,
        "page": page,
        "error": error,
        "querystring": query.urlencode(),
        "suggestion": suggestion,
        "suggestion_querystring": suggestion_query.urlencode(),
        "ignored": results.ignored,
        "audience": {"person": _("个人"), "organisation": _("法人")}.get(filters.service_object or "", ""),
        **_filter_choices(),
    }
    return render(request, "portal/catalog/search.html", context, status=400 if error else 200)


def _version(request: HttpRequest, code: str) -> ItemVersion:
    """The current version, or the one asked for with ?version=N (a case keeps its version)."""
    number = request.GET.get("version")
    if number:
        return selectors.get_version(code, number, include_drafts=can_manage_catalog(request.user))
    return selectors.get_current_version(code)


def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return render(request, "portal/catalog/not_found.html", {"message": exc.message}, status=404)


def item_guide(request: HttpRequest, code: str) -> HttpResponse:
    try:
        version = _version(request, code)
    except NotFound as exc:
        return _not_found(request, exc)
    current = version.item.current_version
    if not request.GET.get("version"):
        services.record_view(version.item)  # popularity for search ranking
    context = {
        "version": version,
        "item": version.item,
        "current": current,
        "is_current": current is not None and current.pk == version.pk,
        "online_open": selectors.can_apply_online(version),
        "summary": guide.summary_rows(version),
        "materials": guide.materials(
            version, file_url=partial(guide.material_file_url, pinned=current is None or current.pk != version.pk)
        ),
        "stages": guide.stages(version),
        "zero_visit": guide.is_zero_visit(version),
        # staff do not apply as persons: a window clerk takes the item in at the window instead
        "staff_roles": identity_selectors.roles_of(request.user),
    }
    return render(request, "portal/catalog/guide.html", context)


GUIDE_FILES = {"blank_form": gettext_lazy("空白表格"), "sample": gettext_lazy("示例样表")}


def item_material_file(request: HttpRequest, code: str, material_id: int, kind: str) -> HttpResponse:
    """The blank form (空白表格) or filled-in sample (示例样表) of one material of the guide's version, as
    a download named after the material, with the type its content has."""
    try:
        version = _version(request, code)
    except NotFound as exc:
        return _not_found(request, exc)
    material = version.materials.filter(pk=material_id).first()
    stored = getattr(material, kind, None) if material is not None and kind in GUIDE_FILES else None
    if not stored:
        return _not_found(request, NotFound(_("该材料没有%(k)s。") % {"k": GUIDE_FILES.get(kind, _("此文件"))}))
    ext = Path(stored.name).suffix.lower()
    content_type = mimetypes.guess_type(f"x{ext}")[0] or "application/octet-stream"
    filename = f"{material.name}-{GUIDE_FILES[kind]}{ext}"
    response = FileResponse(stored.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def item_guide_pdf(request: HttpRequest, code: str) -> HttpResponse:
    try:
        version = _version(request, code)
    except NotFound as exc:
        return _not_found(request, exc)
    response = HttpResponse(guide.guide_pdf(version), content_type="application/pdf")
    filename = _("%(name)s-办事指南-第%(n)d版.pdf") % {"name": version.name, "n": version.number}
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


urlpatterns = [
    path("", home, name="home"),
    path("search/", search, name="search"),
    path("items/<str:code>/", item_guide, name="item_guide"),
    path("items/<str:code>/guide.pdf", item_guide_pdf, name="item_guide_pdf"),
    path("items/<str:code>/materials/<int:material_id>/<str:kind>/", item_material_file, name="item_material_file"),
]
