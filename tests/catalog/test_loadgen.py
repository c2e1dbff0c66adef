"""Load data for the catalog at scale (``generate_items``) and the search over it: what the benchmark
checks (the family a user means on the first page, the same matches and scores as a naive reference),
pages that follow one another without gaps or repeats, and the index's copies of the version's fields."""

import datetime as dt
import sys
from pathlib import Path

import pytest
from django.db.models import Count
from django.utils import timezone

from catalog.factories import published_version
from yiwang.catalog import selectors, services
from yiwang.catalog.loadgen import generate_items
from yiwang.catalog.models import SearchTerm, SearchWord, ServiceItem
from yiwang.identity.models import Region

pytestmark = pytest.mark.django_db

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import search as bench  # noqa: E402  (bench/search.py: its checks run here at a tiny size)


def test_generated_items_are_published_in_force_and_searchable():
    assert generate_items(120, seed=1) == 120
    assert selectors.current_versions().count() == 120
    assert SearchTerm.objects.values("version_id").distinct().count() == 120
    found = selectors.search_items(q="营业执照")
    assert found.count() > 0 and all("营业执照" in v.keywords + v.result_name + v.name + v.conditions for v in found)
    # run again: more items, no code taken twice, the regions and departments reused
    regions = Region.objects.count()
    assert generate_items(30, seed=2) == 30
    assert ServiceItem.objects.count() == ServiceItem.objects.values("code").distinct().count() == 150
    assert Region.objects.count() == regions


def test_the_benchmark_checks_pass_on_generated_items():
    services.seed_synonyms()
    generate_items(400, seed=3)
    for query, expected in bench.QUERIES.items():
        errors, seen = bench.check_query(query, expected)
        assert errors == 0, (query, seen)
    town = Region.objects.filter(level=Region.Level.TOWNSHIP, items__isnull=False).order_by("code").first()
    errors, rows = bench.reference_check(town.code)
    assert errors == 0 and rows > 0


def test_pages_follow_one_another_across_equal_scores():
    generate_items(150, seed=4)
    results = selectors.search_items(q="登记")
    count = results.count()
    assert count > 45
    everything = list(results)
    pages = [v.pk for start in range(0, count, 7) for v in selectors.search_items(q="登记")[start : start + 7]]
    assert pages == [v.pk for v in everything] and len(set(pages)) == count
    scores = [v.score for v in everything]
    assert scores == sorted(scores, reverse=True)
    # within one score, the more viewed item first
    for before, after in zip(everything, everything[1:], strict=False):
        if before.score == after.score:
            assert before.item.popularity >= after.item.popularity
    assert selectors.search_items(q="登记")[count : count + 5] == []


def test_index_rows_carry_what_the_filters_read():
    version = published_version(name="食品经营许可（新办）", keywords="饭店", max_visits=0, online_depth=4)
    rows = SearchTerm.objects.filter(version=version)
    assert rows.exists()
    assert set(rows.values_list("item_id", "department_id", "region_code", "theme", "max_visits").distinct()) == {
        (version.item_id, version.item.department_id, version.item.region_id, version.theme, 0)
    }
    assert [v.pk for v in selectors.search_items(q="饭店", zero_visit=True)] == [version.pk]
    assert list(selectors.search_items(q="饭店", zero_visit=False)) == []
    # taken over by a later version from a future day: the old one's rows learn the day
    later = services.new_draft_from(version)
    services.update_draft(later, keywords="饭店 餐馆")
    services.publish(later, effective_from=timezone.localdate() + dt.timedelta(days=5))
    assert set(rows.values_list("valid_until", flat=True)) == {timezone.localdate() + dt.timedelta(days=5)}


def test_each_word_knows_how_many_versions_it_finds():
    generate_items(80, seed=5)
    version = published_version(name="奶茶店备案", keywords="奶茶店 饮品")
    services.retire(selectors.search_items(q="营业执照").first())

    def counted():
        actual = dict(SearchTerm.objects.values_list("term").annotate(n=Count("version_id", distinct=True)))
        return actual, dict(SearchWord.objects.values_list("word", "versions"))

    actual, stored = counted()
    assert stored == actual and stored["奶茶店"] >= 1
    services.retire(version)
    actual, stored = counted()
    assert stored == actual and "饮品" not in stored
    # a search over two words starts from the rarer one and finds the same as each word alone
    both = {v.pk for v in selectors.search_items(q="登记 营业执照")}
    alone = [{v.pk for v in selectors.search_items(q=q)} for q in ("登记", "营业执照")]
    assert both == alone[0] & alone[1] and both


def test_a_large_rebuild_builds_the_lookup_index_after_the_rows(monkeypatch):
    from yiwang.catalog.services import search as writer

    generate_items(40, seed=6)
    before = {q: [(v.pk, v.score) for v in selectors.search_items(q=q)] for q in ("营业执照", "yyzz", "出生登记")}
    monkeypatch.setattr(writer, "BULK", 10)  # as for a province's catalog
    assert services.rebuild_index()["versions"] == 40
    assert {q: [(v.pk, v.score) for v in selectors.search_items(q=q)] for q in before} == before
    seen = []
    assert services.rebuild_index(progress=seen.append)["versions"] == 40 and seen[-1] == 40
    assert {q: [(v.pk, v.score) for v in selectors.search_items(q=q)] for q in before} == before
    assert generate_items(30, seed=7) == 30  # a bulk load into a catalog that has an index
    assert selectors.current_versions().count() == 70


def test_the_search_benchmark_runs_as_make_bench_runs_it():
    """``bench/search.py`` in a process of its own on a fresh database, as ``make bench`` starts it."""
    result = bench.child(None, 400, 1)
    # no error: every query found its item family and the pages added up to the counts
    assert result["id"] == "P4" and result["errors"] == 0
    assert set(result) >= {"figure", "unit", "baseline", "baseline_unit", "ratio", "p99_ms"}
