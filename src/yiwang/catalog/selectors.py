"""Read queries of the catalog shared by the portal, the API and other apps.

The *current* version of an item is the published one in force today: ``ItemVersion.in_force()``,
a condition on the row itself (``valid_until`` is set when a later version takes over), so that one
index answers it. Searching with words goes through the search index (``SearchTerm``, written by
``services.search``): the query is cut into words like the items were, each word expanded by
synonyms and, typed in Latin letters, by pinyin through the vocabulary (``SearchWord``); every word
must match (in any field), results are ranked by field weights and then by popularity. The same SQL
runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import Choices, Count, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz.distance import Levenshtein

from yiwang.core.errors import Conflict, InvalidInput, NotFound
from yiwang.identity.models import Department, Region

from . import text
from .models import (
    Handling,
    ItemType,
    ItemVersion,
    OnlineDepth,
    SearchTerm,
    SearchWord,
    ServiceItem,
    ServiceObject,
    Synonym,
    Theme,
)

MAX_PAGE_SIZE = 100
MAX_WORDS_PER_QUERY_WORD = 100  # a short pinyin prefix can spell many words: the most common few suffice
MAX_SUGGESTION_CANDIDATES = 500
MAX_QUERY = 100  # characters, as the search box sends
FIRST_PAGE = 20  # matches read with the count (the portal's and the API's page size)

# Filter values as they appear in URLs: 个人 / 法人 (or the codes person / organisation).
SERVICE_OBJECT_FILTERS = {
    "person": ServiceObject.PERSON,
    "个人": ServiceObject.PERSON,
    "organisation": ServiceObject.ORGANISATION,
    "法人": ServiceObject.ORGANISATION,
}


def current_versions() -> QuerySet[ItemVersion]:
    """The version in force today of every item that has one."""
    return ItemVersion.objects.filter(ItemVersion.in_force()).select_related("item", "item__department", "item__region")


def open_for_online_application(day: dt.date | None = None, prefix: str = "") -> Q:
    """THE rule for "can be applied for online" (在线办理), as a condition on the version row: published,
    in force on ``day`` (effective, not retired, not yet taken over by a later version) and offered
    online at least to depth Ⅲ (网上预审受理). Guide, application pages, drafts, services and API all
    ask ``can_apply_online`` / ``online_version``, never the fields themselves."""
    return ItemVersion.in_force(day, prefix) & Q(**{f"{prefix}online_depth__gte": OnlineDepth.PRE_REVIEW})


def can_apply_online(version: ItemVersion, *, day: dt.date | None = None) -> bool:
    """Whether ``version`` takes online applications on ``day`` (default today)."""
    return (
        version.pk is not None and ItemVersion.objects.filter(open_for_online_application(day), pk=version.pk).exists()
    )


def online_version(item: ServiceItem) -> ItemVersion:
    """The version of ``item`` that takes online applications today; Conflict (with the reason) if none."""
    version = (
        ItemVersion.objects.filter(open_for_online_application(), item=item)
        .select_related("item", "item__department", "item__region")
        .prefetch_related("materials", "stages__department")
        .order_by("-effective_from", "-number")
        .first()
    )
    if version is not None:
        return version
    if current_versions().filter(item=item).exists():
        raise Conflict(_("该事项暂不支持网上申报，请到办事窗口办理。"))
    raise Conflict(_("该事项暂无有效的实施清单，暂不能申报。"))


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


def _choice(value: Any, choices: type[Choices], field: str, label: str) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text not in {str(v) for v in choices.values}:
        # the page is Chinese: name each choice by its label, with the code the query string takes
        listed = _("、").join(f"{name}（{code}）" for code, name in choices.choices)
        raise InvalidInput(
            _("「%(l)s」的取值「%(v)s」无效，可选：%(c)s。") % {"l": label, "v": text, "c": listed}, field=field
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
    depth = _choice(get("online_depth"), OnlineDepth, "online_depth", _("网上办理深度"))
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
        theme=_choice(get("theme"), Theme, "theme", _("主题分类")),
        department=department,
        region=region,
        item_type=_choice(get("item_type"), ItemType, "item_type", _("事项类型")),
        handling=_choice(get("handling"), Handling, "handling", _("办件类型")),
        online_depth=int(depth) if depth else None,
        zero_visit=zero_visit,
    )


# --- search ------------------------------------------------------------------------------------


@dataclass
class QueryPlan:
    """How a query is looked up: every group must match, by any of its vocabulary words."""

    query: str
    groups: list[list[str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # query words the catalog does not know
    frequency: dict[str, int] = field(default_factory=dict)  # indexed versions per vocabulary word

    def sizes(self) -> list[int]:
        """Roughly how many versions each group matches (an upper bound: the sum over its words)."""
        return [sum(self.frequency.get(w, 0) for w in group) for group in self.groups]


def _vocabulary_q(token: str, synonyms: list[str]) -> Q:
    if text.is_latin(token):
        condition = Q(word=token) | Q(pinyin=token) | Q(initials=token)
        if len(token) >= 3:  # typed so far: yingye… finds 营业执照
            condition |= Q(pinyin__prefix=token) | Q(initials__prefix=token)
    else:
        condition = Q(word=token)
        if len(token) == 1:  # a lone character asked for on its own: the words it begins
            condition |= Q(word__prefix=token)
    if synonyms:
        condition |= Q(word__in=synonyms)
    return condition


def _matches(token: str, synonyms: list[str], word: str, full: str, initials: str) -> bool:
    if word == token or word in synonyms:
        return True
    if text.is_latin(token):
        return token in (full, initials) or (len(token) >= 3 and (full.startswith(token) or initials.startswith(token)))
    return len(token) == 1 and word.startswith(token)


def _lookup(conditions: dict[str, tuple[Q, list[str]]], frequency: dict[str, int]) -> dict[str, list[str]]:
    """Vocabulary words for each query word, in one indexed query; exact words first, then shorter ones.
    Their frequencies are added to ``frequency``."""
    found: dict[str, list[str]] = {token: [] for token in conditions}
    if not conditions:
        return found
    combined = Q()
    for condition, _synonyms in conditions.values():
        combined |= condition
    rows = SearchWord.objects.filter(combined).values_list("word", "pinyin", "initials", "versions")
    for word, full, initials, versions in rows[: MAX_WORDS_PER_QUERY_WORD * len(conditions) * 4]:
        frequency[word] = versions
        for token, (_condition, synonyms) in conditions.items():
            if _matches(token, synonyms, word, full, initials):
                found[token].append(word)
    for token, words in found.items():
        words.sort(key=lambda w: (w != token, len(w), w))
        del words[MAX_WORDS_PER_QUERY_WORD:]
    return found


def plan_query(query: str) -> QueryPlan:
    """Cut the query into words, add their synonyms and pinyin spellings, and keep the words the index
    knows. A word it does not know is split into smaller known words (监督管理 → 监督 + 管理) or ignored."""
    query = query[:MAX_QUERY]
    plan = QueryPlan(query=query)
    if not text.query_words(query):
        return plan
    # what people say (开饭店, 开个小店) anywhere in the query stands for the catalog's words
    synonyms = {s.phrase: s.word_list() for s in Synonym.objects.filter(phrase__in=text.substrings(query))}
    phrases, rest = text.take_phrases(query, set(synonyms))
    rest_words = [w for w in text.query_words(rest) if w not in phrases]
    if phrases:  # beside a phrase, lone characters and stop words (我要, 开) are left out
        tokens = phrases + [w for w in text.meaningful(rest_words) if w not in text.QUERY_STOPWORDS and len(w) >= 2]
    else:
        tokens = text.meaningful(rest_words)
    found = _lookup({t: (_vocabulary_q(t, synonyms.get(t, [])), synonyms.get(t, [])) for t in tokens}, plan.frequency)
    unknown = [t for t in tokens if not found[t]]
    pieces = {t: text.parts(t) for t in unknown if text.has_han(t) and len(t) > 2}
    known_pieces = _lookup({p: (Q(word=p), []) for ps in pieces.values() for p in ps}, plan.frequency) if pieces else {}
    for token in tokens:
        if found[token]:
            plan.groups.append(found[token])
        elif pieces.get(token) and all(known_pieces.get(p) for p in pieces[token]):
            plan.groups.extend([p] for p in dict.fromkeys(pieces[token]))
        else:
            plan.ignored.append(token)
    return plan


def _region_codes(region: str) -> QuerySet[Region]:
    """The region and its districts and counties (two levels down)."""
    return Region.objects.filter(Q(code=region) | Q(parent_id=region) | Q(parent__parent_id=region)).values("code")


def _scope(f: SearchFilters, prefix: str = "") -> Q:
    """Versions in force today that pass every filter (``prefix`` reaches them through a relation)."""
    condition = ItemVersion.in_force(prefix=prefix)
    exact = {
        "theme": f.theme,
        "item_type": f.item_type,
        "handling": f.handling,
        "online_depth": f.online_depth,
        "item__department__credit_code": f.department,
    }
    condition &= Q(**{f"{prefix}{name}": value for name, value in exact.items() if value})
    return condition & _audience(f, prefix)


def _audience(f: SearchFilters, prefix: str = "") -> Q:
    condition = Q()
    if f.service_object:
        condition &= Q(**{f"{prefix}service_object__in": [f.service_object, ServiceObject.BOTH]})
    if f.zero_visit is True:
        condition &= Q(**{f"{prefix}max_visits": 0})
    elif f.zero_visit is False:
        condition &= Q(**{f"{prefix}max_visits__gt": 0})
    return condition


def _term_scope(f: SearchFilters) -> Q:
    """``_scope`` on the index's own copies of the version's fields (no join): only published versions
    are indexed, so "in force" is the two dates."""
    today = timezone.localdate()
    condition = Q(effective_from__lte=today) & (Q(valid_until__isnull=True) | Q(valid_until__gt=today))
    exact = {"theme": f.theme, "item_type": f.item_type, "handling": f.handling, "online_depth": f.online_depth}
    condition &= Q(**{name: value for name, value in exact.items() if value})
    if f.department:
        condition &= Q(department_id__in=Department.objects.filter(credit_code=f.department).values("pk"))
    if f.region:
        condition &= Q(region_code__in=_region_codes(f.region))
    return condition & _audience(f)


class SearchResults:
    """The matching current versions, best first, read page by page. The score of a version is summed in
    SQL over the index alone (its covering index holds the weight, the popularity and the dates);
    ``count()`` is one query that also returns the first page; another page is one query more; then
    the page's versions are read by key (one query). Django's ``Paginator`` and DRF's pagination take
    it like a queryset."""

    ordered = True

    def __init__(self, filters: SearchFilters, plan: QueryPlan | None):
        self.filters = filters
        self.plan = plan
        self._count: int | None = None
        self._first: list[tuple[int, int]] | None = None  # (version_id, score) of the first page
        self._suggestion: str | None | bool = False

    @property
    def words(self) -> list[str]:
        """The query's words as searched (the first word of each group)."""
        return [group[0] for group in self.plan.groups] if self.plan else []

    @property
    def ignored(self) -> list[str]:
        return self.plan.ignored if self.plan else []

    def _browse(self) -> QuerySet[ItemVersion]:
        qs = current_versions().filter(_scope(self.filters))
        if self.filters.region:
            qs = qs.filter(item__region_id__in=_region_codes(self.filters.region))
        return qs.order_by("name", "item__code")

    def _matches(self) -> tuple[str, list[Any]]:
        """SQL of (version_id, score, pop) for every match, grouped over the covering index (term,
        version, weight, popularity, dates). With several groups (every one must match), the versions of
        the rarest group drive: only their rows of the other words are looked up in the index, not
        every version that has a common word such as 登记 or 许可."""
        groups = self.plan.groups
        words = list(dict.fromkeys(w for group in groups for w in group))
        scope = _term_scope(self.filters)
        if len(groups) == 1:
            ranked = SearchTerm.objects.filter(scope, term__in=words).values("version_id")
            ranked = ranked.annotate(score=Sum("weight"), pop=Max("popularity")).order_by()
            return ranked.query.sql_with_params()
        sizes = self.plan.sizes()
        rarest = groups[sizes.index(min(sizes))]
        driver = SearchTerm.objects.filter(scope, term__in=rarest).values("version_id").distinct().order_by()
        driver_sql, params = driver.query.sql_with_params()

        def listed(values: list[str]) -> str:
            return ", ".join(["%s"] * len(values))

        # a version's rows share its scope (copied from the version): the driver has checked it
        having = " AND ".join(f"MAX(CASE WHEN t.term IN ({listed(group)}) THEN 1 ELSE 0 END) = 1" for group in groups)
        sql = (
            "SELECT t.version_id AS version_id, SUM(t.weight) AS score, MAX(t.popularity) AS pop"
            f" FROM ({driver_sql}) d CROSS JOIN {SearchTerm._meta.db_table} t"  # CROSS: SQLite keeps d outer
            f" WHERE t.version_id = d.version_id AND t.term IN ({listed(words)})"
            f" GROUP BY t.version_id HAVING {having}"
        )
        return sql, [*params, *words, *(w for group in groups for w in group)]

    def _query(self, start: int, stop: int) -> tuple[list[tuple[int, int]], int | None]:
        """(version_id, score) of matches ``start`` to ``stop`` in rank order, and the number of matches
        (None when that page is empty), in one statement: the matches are grouped once (``m``); the
        match at ``stop`` (``cut``, a top-N sort of the grouped rows) bounds the page, so that only the
        matches ranking at least as high are joined to their version and item for the last tie-breaks."""
        sql, params = self._matches()
        version, item = ItemVersion._meta.db_table, ServiceItem._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH m AS ({sql}),"
                " cut AS (SELECT score, pop FROM m ORDER BY score DESC, pop DESC LIMIT 1 OFFSET %s)"
                " SELECT m.version_id, m.score, (SELECT COUNT(*) FROM m) FROM m"
                f" INNER JOIN {version} v ON v.id = m.version_id INNER JOIN {item} i ON i.id = v.item_id"
                # constants for the scan of m: matches below the cut are dropped before any join
                " WHERE m.score > COALESCE((SELECT score FROM cut), -1)"
                " OR (m.score = (SELECT score FROM cut) AND m.pop >= (SELECT pop FROM cut))"
                " ORDER BY m.score DESC, m.pop DESC, v.name ASC, i.code ASC LIMIT %s OFFSET %s",
                [*params, stop - 1, stop - start, start],
            )
            rows = cursor.fetchall()
        return [(pk, score) for pk, score, _n in rows], (rows[0][2] if rows else None)

    @property
    def searching(self) -> bool:
        return self.plan is not None

    def count(self) -> int:
        if self._count is None:
            if self.plan is None:
                self._count = self._browse().count()
            elif not self.plan.groups:
                self._count = 0
            else:  # the count comes with the first page, which the portal and the API read next
                self._first, total = self._query(0, FIRST_PAGE)
                self._count = total or 0
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice | int) -> list[ItemVersion] | ItemVersion:
        if isinstance(key, int):
            return self[key : key + 1][0]
        if self.plan is None:
            return list(self._browse()[key])
        if not self.plan.groups:
            return []
        start, stop, _step = key.indices(self.count())
        if start >= stop:
            ranked = []
        elif self._first is not None and stop <= FIRST_PAGE:
            ranked = self._first[start:stop]
        else:
            ranked = self._query(start, stop)[0]
        # the index said they are in force: read them by key alone
        versions = ItemVersion.objects.select_related("item", "item__department", "item__region").in_bulk(
            [version_id for version_id, _score in ranked]
        )
        page = []
        for version_id, score in ranked:
            version = versions[version_id]
            version.score = score
            page.append(version)
        return page

    def __iter__(self) -> Iterator[ItemVersion]:
        return iter(self[0 : self.count()])

    def first(self) -> ItemVersion | None:
        """The best match, or None."""
        found = self[0:1]
        return found[0] if found else None

    def get(self) -> ItemVersion:
        """The only match (like ``QuerySet.get()``): DoesNotExist or MultipleObjectsReturned otherwise."""
        found = self[0:2]
        if not found:
            raise ItemVersion.DoesNotExist(_("没有符合条件的事项。"))
        if len(found) > 1:
            raise ItemVersion.MultipleObjectsReturned(_("符合条件的事项不止一项。"))
        return found[0]

    @property
    def suggestion(self) -> str | None:
        """您是不是要找: a known word close to what was typed (the whole query, else a word that was not
        found), when nothing or not everything was found."""
        if self._suggestion is False:
            self._suggestion = None
            if self.plan is not None and (self.plan.ignored or self.count() == 0):
                for attempt in dict.fromkeys([self.plan.query, *self.plan.ignored]):
                    self._suggestion = suggest(attempt)
                    if self._suggestion:
                        break
        return self._suggestion


def search_items(filters: SearchFilters | None = None, **kwargs: Any) -> SearchResults:
    """Current versions matching every word of ``q`` and every filter: by relevance (words in the name
    count most, then keywords, department and theme, then conditions) and popularity; without ``q``, by
    name. Pass a ``SearchFilters`` or its fields as keyword arguments."""
    f = filters or SearchFilters(**kwargs)
    return SearchResults(f, plan_query(f.q) if f.q.strip() else None)


def suggest(query: str) -> str | None:
    """The vocabulary word nearest to ``query`` by pinyin (homophones first, then edit distance), looked
    up through the pinyin and word indexes among words that begin alike, or None."""
    target = text.clean(query)
    if not target:
        return None
    spelled = text.pinyin(target)[0] if text.has_han(target) else target
    homophones = SearchWord.objects.filter(pinyin=spelled).exclude(word=target).values_list("word", flat=True)
    best = min(homophones[:20], key=lambda w: (len(w), w), default=None)
    if best:
        return best
    nearby = Q(pinyin__prefix=spelled[:2])
    if text.has_han(target):
        nearby |= Q(word__prefix=target[0])
    candidates = SearchWord.objects.filter(nearby).exclude(word=target).values_list("word", "pinyin")
    limit = max(1, len(spelled) // 4)
    scored = []
    for word, full in candidates[:MAX_SUGGESTION_CANDIDATES]:
        distance = Levenshtein.distance(full, spelled, score_cutoff=limit)
        if distance <= limit:
            scored.append((distance, abs(len(full) - len(spelled)), len(word), word))
    return min(scored)[3] if scored else None


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
