"""The search index, kept in step with the catalog, synonyms, and the popularity counter.

``publish`` indexes the new version (and drops the one it takes over from today); ``retire`` drops
the versions it retires. Rows are written in bulk: one query for the terms of a version, one for its
new vocabulary. ``rebuild_index`` (``yiwang reindex-catalog``) builds everything again from the
versions in force or scheduled, set-based: the versions read as plain rows, the terms of texts that
items share computed once, the rows written by COPY (PostgreSQL) or multi-row INSERTs (SQLite).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.errors import Conflict, InvalidInput

from ..models import ItemVersion, SearchTerm, SearchWord, ServiceItem, Synonym, Theme
from ..text import MAX_TERM, clean, pinyin, weighted_terms
from .access import ROLE, check_actor

SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "synonyms.json"
BATCH = 2000


SOURCE_FIELDS = (
    "pk", "item_id", "item__region_id", "item__department_id", "item__department__name",
    "item__department__short_name", "name", "keywords", "result_name", "conditions", "theme", "item_type",
    "handling", "online_depth", "service_object", "max_visits", "effective_from", "valid_until",
    "item__popularity",
)  # fmt: skip
# the columns of a SearchTerm row, in the order ``_term_rows`` yields them
COLUMNS = (
    "term", "weight", "version_id", "item_id", "region_code", "department_id", "theme", "item_type",
    "handling", "online_depth", "service_object", "max_visits", "effective_from", "valid_until", "popularity",
)  # fmt: skip
LOOKUP_INDEX = "searchterm_lookup"
BULK = 20_000  # versions from which dropping the lookup index and building it afresh is faster


def _theme_labels() -> dict[str, str]:
    with translation.override("zh-hans"):  # indexed in Chinese whatever the request's language
        return {value: str(label) for value, label in Theme.choices}


def version_texts(version: ItemVersion) -> dict[str, list[str]]:
    """The texts of a version by field weight (labels in Chinese whatever the request's language)."""
    department = version.item.department
    return _texts(
        version.name, version.keywords, version.result_name, version.conditions,
        department.name, department.short_name, _theme_labels().get(version.theme, version.theme),
    )  # fmt: skip


def _texts(name, keywords, result_name, conditions, department, short_name, theme) -> dict[str, list[str]]:
    return {
        "name": [name],
        "keywords": [keywords, result_name],
        "context": [t for t in (department, short_name, theme) if t],
        "conditions": [conditions],
    }


def _term_rows(rows: Iterable[tuple], words: Counter[str]) -> Iterator[tuple]:
    """SearchTerm rows (``COLUMNS``) for versions read as ``SOURCE_FIELDS``; counts the versions of each
    word in ``words``.
    Items of one standard item share their texts: the terms of a text set are computed once."""
    labels = _theme_labels()
    cache: dict[tuple, dict[str, int]] = {}
    for (pk, item, region, department, dname, dshort, name, keywords, result, conditions, theme, item_type,
         handling, depth, audience, visits, start, until, popularity) in rows:  # fmt: skip
        key = (name, keywords, result, conditions, dname, dshort, theme)
        terms = cache.get(key)
        if terms is None:
            if len(cache) > 20_000:
                cache.clear()
            terms = cache[key] = weighted_terms(
                _texts(name, keywords, result, conditions, dname, dshort, labels.get(theme, theme))
            )
        words.update(terms.keys())
        for term, weight in terms.items():
            yield (term, weight, pk, item, region, department, theme, item_type, handling, depth, audience,
                   visits, start, until, popularity)  # fmt: skip


def _insert_terms(rows: Iterable[tuple]) -> int:
    """Write term rows in bulk: COPY on PostgreSQL, batched multi-row INSERTs elsewhere (no model objects:
    at province scale the index has millions of rows)."""
    table = SearchTerm._meta.db_table
    columns = ", ".join(COLUMNS)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH * 10:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _add_words(words: Counter[str]) -> None:
    """New vocabulary (words already known are left alone), and each word's count of versions."""
    rows = []
    for word in words:
        full, initials = pinyin(word)
        rows.append(SearchWord(word=word[:MAX_TERM], pinyin=full, initials=initials))
    SearchWord.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
    _count_words(words)


def _count_words(changes: Counter[str]) -> None:
    """Add (or, negative, take) versions to each word's count: one statement, executed per word."""
    if changes:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {SearchWord._meta.db_table} SET versions = versions + %s WHERE word = %s",
                [(n, word[:MAX_TERM]) for word, n in changes.items()],
            )


def _prune_words(words: Iterable[str]) -> None:
    """Forget words that no indexed version uses any more (so that no suggestion leads nowhere)."""
    words = list(words)
    for start in range(0, len(words), BATCH):
        chunk = words[start : start + BATCH]
        used = SearchTerm.objects.filter(term__in=chunk).values("term")
        SearchWord.objects.filter(word__in=chunk).exclude(word__in=used).delete()


def index_versions(versions: Any, *, bulk: bool | None = None) -> dict[str, int]:
    """Write the terms of the versions of a queryset (none of them indexed yet), set-based: one read,
    bulk writes, the vocabulary once. Returns how many versions, terms and words. For many versions
    (``bulk``, default: more than ``BULK``) the lookup index is dropped and built again after the rows:
    one sort instead of millions of scattered index inserts (within the caller's transaction)."""
    words: Counter[str] = Counter()
    done = [0]

    def chunks() -> Iterator[list[tuple]]:
        # read a chunk whole before writing it: COPY holds the connection (PostgreSQL)
        last = 0
        while True:
            chunk = list(versions.filter(pk__gt=last).order_by("pk").values_list(*SOURCE_FIELDS)[: BATCH * 5])
            if not chunk:
                return
            done[0] += len(chunk)
            last = chunk[-1][0]
            yield chunk

    if bulk is None:
        bulk = versions.count() > BULK
    with transaction.atomic():
        if bulk:
            _lookup_index(drop=True)
        terms = sum(_insert_terms(_term_rows(chunk, words)) for chunk in chunks())
        if bulk:
            _lookup_index(drop=False)
            transaction.on_commit(vacuum_terms)
        _add_words(words)
    return {"versions": done[0], "terms": terms, "words": len(words)}


def vacuum_terms() -> None:
    """After a bulk build, on PostgreSQL: VACUUM ANALYZE the term table, so that searches read the
    covering index alone at once (until the visibility map is set, every matching row is also read
    from the table: 215 ms instead of 34 ms for 营业执照 over 125 000 items) instead of after the next
    autovacuum. Runs after the commit (a VACUUM cannot run in a transaction)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {SearchTerm._meta.db_table}")


def _lookup_index(*, drop: bool) -> None:
    """Drop or create ``searchterm_lookup`` as the model declares it (same SQL on both databases)."""
    (index,) = [i for i in SearchTerm._meta.indexes if i.name == LOOKUP_INDEX]
    columns = ", ".join(SearchTerm._meta.get_field(f).column for f in index.fields)
    with connection.cursor() as cursor:
        if drop:
            cursor.execute(f"DROP INDEX IF EXISTS {LOOKUP_INDEX}")
        else:
            if connection.vendor == "postgresql":
                # the rows' deferred foreign-key checks run first (no index is built over pending ones);
                # the sort in memory, not on disk (this transaction only)
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute(f"CREATE INDEX {LOOKUP_INDEX} ON {SearchTerm._meta.db_table} ({columns})")
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def index_version(version: ItemVersion) -> int:
    """(Re)write the terms of one published version; returns the number of terms. Called by ``publish``
    inside its transaction, so that a version is never in force without being searchable. The item's
    other indexed versions get their ``valid_until`` copied again (the one taken over has just had it set)."""
    unindex_version([version.pk])
    indexed = index_versions(ItemVersion.objects.filter(pk=version.pk))
    SearchTerm.objects.filter(item_id=version.item_id).exclude(version_id=version.pk).update(
        valid_until=Subquery(ItemVersion.objects.filter(pk=OuterRef("version_id")).values("valid_until")[:1])
    )
    return indexed["terms"]


def unindex_version(versions: Iterable[ItemVersion | int]) -> None:
    """Drop the terms of versions that left the catalog (retired, or taken over by a newer one)."""
    ids = [v if isinstance(v, int) else v.pk for v in versions]
    rows = SearchTerm.objects.filter(version_id__in=ids).values("term").annotate(n=Count("pk")).order_by()
    terms = Counter({row["term"]: -row["n"] for row in rows})
    SearchTerm.objects.filter(version_id__in=ids).delete()
    _count_words(terms)
    _prune_words(terms)


def indexable_versions() -> Any:
    """Published versions in force today or scheduled for later (not those already taken over)."""
    today = timezone.localdate()
    return ItemVersion.objects.filter(status=ItemVersion.Status.PUBLISHED).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=today)
    )


@transaction.atomic
def rebuild_index(progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Build the whole index again from the catalog (after an import that bypassed the services, or an
    upgrade of the word lists). One transaction: searches see the old index until it commits."""
    SearchTerm.objects.all().delete()
    SearchWord.objects.all().delete()
    versions = indexable_versions()
    if progress is None:
        return index_versions(versions)
    # in slices of versions, so that the operator sees it move
    total = {"versions": 0, "terms": 0, "words": 0}
    ids = list(versions.order_by("pk").values_list("pk", flat=True))
    bulk = len(ids) > BULK
    if bulk:
        _lookup_index(drop=True)
    for start in range(0, len(ids), BATCH * 10):
        chunk = ids[start : start + BATCH * 10]
        part = index_versions(versions.filter(pk__gte=chunk[0], pk__lte=chunk[-1]), bulk=False)
        total["versions"] += part["versions"]
        total["terms"] += part["terms"]
        progress(total["versions"])
    if bulk:
        _lookup_index(drop=False)
        transaction.on_commit(vacuum_terms)
    total["words"] = SearchWord.objects.count()
    return total


def record_view(item: ServiceItem) -> None:
    """Count one view of an item's guide: the popularity that ranks equally relevant results. One row
    written, no lock held (concurrent views add up in the database); the search index rows get the count
    from ``sync_popularity``, so that a view never rewrites the item's few dozen index rows."""
    ServiceItem.objects.filter(pk=item.pk).update(popularity=F("popularity") + 1)


def sync_popularity() -> int:
    """Copy the popularity of the items viewed since the last run onto their search index rows, set-based
    in batches (run every few minutes by the worker). Returns the number of items brought up to date."""
    done = 0
    while True:
        with transaction.atomic():
            changed = list(
                ServiceItem.objects.exclude(popularity=F("indexed_popularity")).values_list("pk", flat=True)[:BATCH]
            )
            if not changed:
                return done
            # the item first: a view counted in between stays ahead of indexed_popularity for the next run
            ServiceItem.objects.filter(pk__in=changed).update(indexed_popularity=F("popularity"))
            SearchTerm.objects.filter(version__in=ItemVersion.objects.filter(item_id__in=changed)).update(
                popularity=Subquery(ServiceItem.objects.filter(pk=OuterRef("item_id")).values("indexed_popularity")[:1])
            )
        done += len(changed)


# --- synonyms ----------------------------------------------------------------------------------


def check_synonym(phrase: str, words: str, *, exclude_pk: int | None = None) -> tuple[str, str]:
    """The phrase and words as stored (cleaned), or InvalidInput naming each wrong field."""
    errors: dict[str, str] = {}
    phrase_clean = clean(phrase)
    if not phrase_clean:
        errors["phrase"] = _("请填写「搜索词」（群众输入的说法，如：开饭店）。")
    elif len((phrase or "").strip()) > MAX_TERM:
        errors["phrase"] = _("「搜索词」不能超过%(n)d个字。") % {"n": MAX_TERM}
    listed = Synonym(phrase=phrase_clean, words=words or "").word_list()
    if not listed:
        errors["words"] = _("请填写至少一个「同义词」（以空格或逗号分隔），且不能与搜索词相同。")
    elif len(" ".join(listed)) > 200:
        errors["words"] = _("「同义词」合计不能超过200个字。")
    if not errors and Synonym.objects.filter(phrase=phrase_clean).exclude(pk=exclude_pk).exists():
        errors["phrase"] = _("搜索词「%(p)s」已有同义词，请直接修改那一条。") % {"p": phrase_clean}
    if errors:
        raise InvalidInput(_("同义词有误：%(e)s") % {"e": "".join(errors.values())}, errors=errors)
    return phrase_clean, " ".join(listed)


def create_synonym(*, phrase: str, words: str, actor: Any = None) -> Synonym:
    """A new synonym: the query ``phrase`` also finds items indexed under ``words``."""
    check_actor(actor)
    phrase, words = check_synonym(phrase, words)
    try:
        with transaction.atomic():
            synonym = Synonym.objects.create(phrase=phrase, words=words)
            audit.record(
                synonym,
                "catalog.synonym.created",
                actor=actor,
                role=ROLE,
                data={"after": {"phrase": phrase, "words": words}},
            )
    except IntegrityError:  # created by someone else since the check
        raise Conflict(_("搜索词「%(p)s」已有同义词，请直接修改那一条。") % {"p": phrase}, field="phrase") from None
    return synonym


@transaction.atomic
def update_synonym(synonym: Synonym, *, phrase: str, words: str, actor: Any = None) -> Synonym:
    check_actor(actor)
    locked = Synonym.objects.select_for_update().get(pk=synonym.pk)
    phrase, words = check_synonym(phrase, words, exclude_pk=locked.pk)
    before = {"phrase": locked.phrase, "words": locked.words}
    after = {"phrase": phrase, "words": words}
    if before != after:
        locked.phrase, locked.words = phrase, words
        locked.save()
        audit.record(locked, "catalog.synonym.updated", actor=actor, role=ROLE, data={"before": before, "after": after})
    return locked


@transaction.atomic
def delete_synonym(synonym: Synonym, *, actor: Any = None) -> None:
    check_actor(actor)
    locked = Synonym.objects.select_for_update().get(pk=synonym.pk)
    before = {"phrase": locked.phrase, "words": locked.words}
    audit.record(locked, "catalog.synonym.deleted", actor=actor, role=ROLE, data={"before": before})
    locked.delete()


def seed_synonyms(actor: Any = "system", path: Path = SYNONYMS_FILE) -> int:
    """Add the synonyms of the data file whose phrase is not defined yet; returns how many were added."""
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    known = set(Synonym.objects.values_list("phrase", flat=True))
    added = 0
    for entry in entries:
        if clean(entry["phrase"]) not in known:
            create_synonym(phrase=entry["phrase"], words=entry["words"], actor=actor)
            added += 1
    return added
