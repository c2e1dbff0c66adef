"""Read queries of the catalog shared by the portal, the API and other apps.

Searching runs over the *current* version of each item: the published version with the latest
``effective_from`` that is not in the future. Everything is plain ORM (``icontains`` and a
correlated subquery), so it behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.errors import InvalidInput, NotFound
from yiwang.identity.models import Department, Region

from .models import Handling, ItemType, ItemVersion, OnlineDepth, ServiceItem, ServiceObject, Theme

MAX_PAGE_SIZE = 100
WORD_SPLIT = re.compile(r"[\s,，、;；]+")

# Filter values as they appear in URLs: 个人 / 法人 (or the codes person / organisation).
SERVICE_OBJECT_FILTERS = {
    "person": ServiceObject.PERSON,
    "个人": ServiceObject.PERSON,
    "organisation": ServiceObject.ORGANISATION,
    "法人": ServiceObject.ORGANISATION,
}


def current_versions() -> QuerySet[ItemVersion]:
    """The version in force today of every item that has one."""
    today = timezone.localdate()
    in_force = ItemVersion.objects.filter(status=ItemVersion.Status.PUBLISHED, effective_from__lte=today)
    latest = in_force.filter(item=OuterRef("item")).order_by("-effective_from", "-number").values("pk")[:1]
    return in_force.filter(pk=Subquery(latest)).select_related("item", "item__department", "item__region")


@dataclass(frozen=True)
class SearchFilters:
    """Validated search parameters (``None`` = no filter)."""

    q: str = ""
    service_object: str | None = None
    theme: str | None = None
    department: str | None = None  # credit code
    region: str | None = None  # GB/T 2260 code; includes the region's districts/counties
    item_type: str | None = None
    handling: str | None = None
    online_depth: int | None = None
    zero_visit: bool | None = None

    @property
    def active(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


def _choice(value: Any, choices: list[str], field: str, label: str) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text not in choices:
        raise InvalidInput(
            _("「%(l)s」的取值「%(v)s」无效，可选：%(c)s。") % {"l": label, "v": text, "c": "、".join(choices)},
            field=field,
        )
    return text


def parse_filters(params: Any) -> SearchFilters:
    """Read filters from a query dict (request.GET / query_params); unknown values raise InvalidInput."""
    get = params.get
    service_object = get("service_object")
    if service_object not in (None, ""):
        if service_object not in SERVICE_OBJECT_FILTERS:
            raise InvalidInput(
                _("「服务对象」的取值「%(v)s」无效，可选：个人、法人。") % {"v": service_object}, field="service_object"
            )
        service_object = SERVICE_OBJECT_FILTERS[service_object].value
    depth = _choice(get("online_depth"), [str(v) for v in OnlineDepth.values], "online_depth", _("网上办理深度"))
    zero = get("zero_visit")
    if zero in (None, ""):
        zero_visit = None
    elif str(zero).lower() in {"1", "true", "yes", "on"}:
        zero_visit = True
    elif str(zero).lower() in {"0", "false", "no", "off"}:
        zero_visit = False
    else:
        raise InvalidInput(_("「零跑动」的取值应为 true 或 false。"), field="zero_visit")
    department = (get("department") or "").strip() or None
    if department and not Department.objects.filter(credit_code=department).exists():
        raise InvalidInput(_("没有统一社会信用代码为 %(c)s 的部门。") % {"c": department}, field="department")
    region = (get("region") or "").strip() or None
    if region and not Region.objects.filter(code=region).exists():
        raise InvalidInput(_("没有区划代码为 %(c)s 的行政区划。") % {"c": region}, field="region")
    return SearchFilters(
        q=(get("q") or "").strip()[:100],
        service_object=service_object or None,
        theme=_choice(get("theme"), list(Theme.values), "theme", _("主题分类")),
        department=department,
        region=region,
        item_type=_choice(get("item_type"), list(ItemType.values), "item_type", _("事项类型")),
        handling=_choice(get("handling"), list(Handling.values), "handling", _("办件类型")),
        online_depth=int(depth) if depth else None,
        zero_visit=zero_visit,
    )


def search_items(filters: SearchFilters | None = None, **kwargs: Any) -> QuerySet[ItemVersion]:
    """Current versions matching every word of ``q`` (in the name, keywords or department name) and
    every filter, ordered by name. Pass a ``SearchFilters`` or its fields as keyword arguments."""
    f = filters or SearchFilters(**kwargs)
    qs = current_versions()
    for word in WORD_SPLIT.split(f.q):
        if word:
            qs = qs.filter(
                Q(name__icontains=word)
                | Q(keywords__icontains=word)
                | Q(item__department__name__icontains=word)
                | Q(item__department__short_name__icontains=word)
            )
    if f.service_object:
        qs = qs.filter(service_object__in=[f.service_object, ServiceObject.BOTH])
    if f.theme:
        qs = qs.filter(theme=f.theme)
    if f.department:
        qs = qs.filter(item__department__credit_code=f.department)
    if f.region:
        qs = qs.filter(
            Q(item__region_id=f.region)
            | Q(item__region__parent_id=f.region)
            | Q(item__region__parent__parent_id=f.region)
        )
    if f.item_type:
        qs = qs.filter(item_type=f.item_type)
    if f.handling:
        qs = qs.filter(handling=f.handling)
    if f.online_depth:
        qs = qs.filter(online_depth=f.online_depth)
    if f.zero_visit is True:
        qs = qs.filter(max_visits=0)
    elif f.zero_visit is False:
        qs = qs.filter(max_visits__gt=0)
    return qs.order_by("name", "item__code")


def paginate(qs: QuerySet, page: Any = 1, per_page: int = 20) -> Page:
    """One page of ``qs``; a page number out of range gives the last page, not an error."""
    paginator = Paginator(qs, max(1, min(int(per_page), MAX_PAGE_SIZE)))
    try:
        return paginator.page(page)
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)


def get_item(code: str) -> ServiceItem:
    """The item with 实施编码 ``code``, or NotFound with a Chinese message."""
    item = ServiceItem.objects.select_related("department", "region").filter(code=(code or "").strip().upper()).first()
    if item is None:
        raise NotFound(_("未找到事项编码为「%(c)s」的政务服务事项。") % {"c": code})
    return item


def get_current_version(code: str) -> ItemVersion:
    """The version of item ``code`` in force today, or NotFound (unknown, not yet published or retired)."""
    item = get_item(code)
    version = current_versions().filter(item=item).prefetch_related("materials", "stages__department").first()
    if version is None:
        raise NotFound(_("事项「%(c)s」目前没有生效的版本（尚未发布或已停用）。") % {"c": item.code})
    return version


def public_versions(item: ServiceItem, *, include_drafts: bool = False) -> QuerySet[ItemVersion]:
    """An item's versions, newest first: published and retired ones, and drafts for catalog managers."""
    qs = item.versions.select_related("item", "item__department", "item__region")
    if not include_drafts:
        qs = qs.exclude(status=ItemVersion.Status.DRAFT)
    return qs.order_by("-number")


def get_version(code: str, number: Any, *, include_drafts: bool = False) -> ItemVersion:
    """Version ``number`` of item ``code`` (as a case refers to it), or NotFound."""
    item = get_item(code)
    try:
        number = int(number)
    except (TypeError, ValueError):
        number = -1
    version = (
        public_versions(item, include_drafts=include_drafts)
        .prefetch_related("materials", "stages__department")
        .filter(number=number)
        .first()
    )
    if version is None:
        raise NotFound(_("事项「%(c)s」没有第%(n)s版。") % {"c": item.code, "n": number})
    return version


def catalog_overview() -> dict[str, Any]:
    """Counts for the home page: items for persons (个人办事) and organisations (法人办事) by theme,
    and items by department. An item for both counts in both groups."""
    qs = current_versions()
    themes = dict(Theme.choices)
    rows = list(qs.values("service_object", "theme").annotate(n=Count("pk")))

    def by_theme(audience: str) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for row in rows:
            if row["service_object"] in (audience, ServiceObject.BOTH):
                counts[row["theme"]] = counts.get(row["theme"], 0) + row["n"]
        return [
            {"theme": theme, "label": themes.get(theme, theme), "count": n}
            for theme, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    person, organisation = by_theme(ServiceObject.PERSON), by_theme(ServiceObject.ORGANISATION)
    by_department = [
        {"credit_code": row["item__department__credit_code"], "name": row["item__department__name"], "count": row["n"]}
        for row in qs.values("item__department__credit_code", "item__department__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "item__department__name")
    ]
    return {
        "total": sum(row["n"] for row in rows),
        "person": sum(t["count"] for t in person),
        "organisation": sum(t["count"] for t in organisation),
        "zero_visit": qs.filter(max_visits=0).count(),
        "person_themes": person,
        "organisation_themes": organisation,
        "by_department": by_department,
    }
