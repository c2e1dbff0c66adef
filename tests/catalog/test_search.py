"""Catalog search through the index: segmentation, pinyin, synonyms, "did you mean", ranking, and the
index kept in step with publishing and retiring (SQLite and PostgreSQL alike)."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from catalog.factories import DepartmentFactory, RegionFactory, published_version
from yiwang.catalog import selectors, services, text
from yiwang.catalog.models import ItemVersion, SearchTerm, SearchWord, ServiceObject, Synonym, Theme
from yiwang.core.errors import Forbidden, InvalidInput
from yiwang.core.models import AuditEvent
from yiwang.identity.models import Region, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    city = RegionFactory()
    county = RegionFactory(code="441602", name="源城区", level=Region.Level.COUNTY, parent=city)
    market = DepartmentFactory(name="河源市市场监督管理局", short_name="市场监管局", region=city)
    county_market = DepartmentFactory(name="源城区市场监督管理局", region=county)
    civil = DepartmentFactory(name="河源市民政局", region=city)
    return {
        "food": published_version(
            department=market,
            name="食品经营许可（新办）",
            keywords="餐饮 饭店 小吃店 奶茶店",
            result_name="食品经营许可证",
            service_object=ServiceObject.ORGANISATION,
            theme=Theme.FOOD,
        ),
        "shop": published_version(
            department=county_market,
            level="4",
            name="个体工商户设立登记",
            keywords="个体户 开店 营业执照",
            result_name="个体工商户营业执照",
            theme=Theme.MARKET,
        ),
        "company": published_version(
            department=market,
            name="有限责任公司设立登记",
            keywords="开公司 注册公司",
            result_name="营业执照（企业）",
            service_object=ServiceObject.ORGANISATION,
            theme=Theme.MARKET,
        ),
        "marriage": published_version(
            department=civil,
            name="内地居民结婚登记",
            keywords="结婚 领证",
            conditions="男女双方自愿结婚，到一方常住户口所在地的婚姻登记机关申请。",
            theme=Theme.MARRIAGE,
        ),
    }


def names(results):
    return [v.name for v in results]


def test_segmentation_finds_a_keyword_inside_a_phrase(catalog):
    Synonym.objects.all().delete()  # the words alone, without the seeded synonyms
    # 开饭店 → 开 + 饭店: 饭店 is a keyword of the food licence
    assert names(selectors.search_items(q="开饭店")) == ["食品经营许可（新办）"]
    assert names(selectors.search_items(q="怎么办理食品经营许可")) == ["食品经营许可（新办）"]
    # a word the index only has in parts: 监督管理 → 监督 + 管理 (of 市场监督管理局)
    assert set(names(selectors.search_items(q="监督管理"))) == {
        "食品经营许可（新办）",
        "个体工商户设立登记",
        "有限责任公司设立登记",
    }


def test_pinyin_and_initials_find_the_licence(catalog):
    for query in ["yyzz", "yingyezhizhao", "YingYe ZhiZhao", "ｙｙｚｚ", "yingyezhi"]:
        assert set(names(selectors.search_items(q=query))) == {"个体工商户设立登记", "有限责任公司设立登记"}, query
    assert names(selectors.search_items(q="jiehun")) == ["内地居民结婚登记"]


def test_every_word_must_match_and_filters_apply(catalog):
    Synonym.objects.all().delete()
    assert names(selectors.search_items(q="营业执照 开公司")) == ["有限责任公司设立登记"]
    # with the seeded synonyms 开公司 also means 营业执照, which the sole trader's licence is too
    services.seed_synonyms()
    assert names(selectors.search_items(q="营业执照 开公司")) == ["有限责任公司设立登记", "个体工商户设立登记"]
    assert names(selectors.search_items(q="营业执照", region="441602")) == ["个体工商户设立登记"]
    assert names(selectors.search_items(q="营业执照", service_object="organisation")) == ["有限责任公司设立登记"]
    market = catalog["company"].item.department.credit_code
    assert names(selectors.search_items(q="登记", department=market)) == ["有限责任公司设立登记"]
    assert names(selectors.search_items(q="登记", theme="marriage")) == ["内地居民结婚登记"]


def test_ranking_by_field_then_popularity(catalog):
    # 登记 is in three names; the marriage item also has it in its conditions (婚姻登记机关)
    ranked = selectors.search_items(q="登记")
    assert names(ranked)[0] == "内地居民结婚登记"
    assert ranked[0].score > ranked[1].score
    # a word in the name outranks the same word in the keywords or the conditions
    assert names(selectors.search_items(q="结婚"))[0] == "内地居民结婚登记"
    everyday = published_version(name="结婚证补领", keywords="补证")
    assert names(selectors.search_items(q="结婚")) == ["内地居民结婚登记", "结婚证补领"] or names(
        selectors.search_items(q="结婚")
    ) == ["结婚证补领", "内地居民结婚登记"]
    # same relevance: the more viewed item first
    tie = selectors.search_items(q="设立登记")
    assert tie[0].score == tie[1].score
    second = tie[1]
    for _ in range(3):
        services.record_view(second.item)
    # views reach the ranking with the worker's next popularity run, not on every view
    assert selectors.search_items(q="设立登记")[0] != second
    assert services.sync_popularity() == 1
    assert selectors.search_items(q="设立登记")[0] == second
    assert services.sync_popularity() == 0
    assert everyday.item.popularity == 0


def test_synonym_applied_at_query_time(catalog):
    Synonym.objects.all().delete()
    assert names(selectors.search_items(q="我想开个小店")) == []
    services.create_synonym(phrase="开个小店", words="个体工商户, 个体户", actor="test")
    assert names(selectors.search_items(q="我想开个小店")) == ["个体工商户设立登记"]
    assert names(selectors.search_items(q="开个小店")) == ["个体工商户设立登记"]


def test_seeded_synonyms_cover_the_restaurant(catalog):
    services.seed_synonyms()
    assert Synonym.objects.get(phrase="开饭店").word_list() == ["餐饮", "饭店", "餐馆", "食品经营"]
    assert names(selectors.search_items(q="我要开餐馆")) == ["食品经营许可（新办）"]
    assert services.seed_synonyms() == 0  # idempotent


def test_synonym_services_check_input_and_audit(catalog):
    with pytest.raises(InvalidInput) as info:
        services.create_synonym(phrase=" ", words="", actor="test")
    assert set(info.value.errors) == {"phrase", "words"}
    assert "请填写「搜索词」" in info.value.message
    synonym = services.create_synonym(phrase="拿驾照", words="驾驶证 机动车驾驶证", actor="test")
    with pytest.raises(InvalidInput) as info:
        services.create_synonym(phrase="拿驾照", words="驾驶证", actor="test")
    assert info.value.errors == {"phrase": "搜索词「拿驾照」已有同义词，请直接修改那一条。"}
    services.update_synonym(synonym, phrase="拿驾照", words="驾驶证", actor="test")
    services.delete_synonym(synonym, actor="test")
    actions = list(
        AuditEvent.objects.filter(subject_type="catalog.synonym", subject_id=str(synonym.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["catalog.synonym.created", "catalog.synonym.updated", "catalog.synonym.deleted"]
    citizen = User.objects.create_user("someone", password="x")
    with pytest.raises(Forbidden):
        services.create_synonym(phrase="看病", words="医保", actor=citizen)


def test_a_typo_gets_a_suggestion(catalog):
    misspelt = selectors.search_items(q="yingyezhizao")  # one letter missing
    assert names(misspelt) == [] and misspelt.suggestion == "营业执照"
    homophone = selectors.search_items(q="营叶执照")  # 叶 for 业: found by its pinyin
    assert homophone.suggestion == "营业执照" and homophone.ignored == ["营叶"]
    assert selectors.search_items(q="营业执照").suggestion is None
    assert selectors.search_items(q="火星签证").suggestion is None


def test_retired_item_disappears_with_its_words(catalog):
    assert names(selectors.search_items(q="奶茶店")) == ["食品经营许可（新办）"]
    services.retire(catalog["food"])
    assert names(selectors.search_items(q="奶茶店")) == []
    assert not SearchTerm.objects.filter(version=catalog["food"]).exists()
    assert not SearchWord.objects.filter(word="奶茶店").exists()  # never suggested again
    assert SearchWord.objects.filter(word="营业执照").exists()  # still used by other items


def test_a_new_version_is_indexed(catalog):
    Synonym.objects.all().delete()  # 领证 would otherwise also mean 结婚登记
    old = catalog["marriage"]
    new = services.new_draft_from(old)
    services.update_draft(new, name="内地居民结婚登记（全省通办）", keywords="跨省通办 结婚")
    services.publish(new)
    assert names(selectors.search_items(q="全省通办")) == ["内地居民结婚登记（全省通办）"]
    assert names(selectors.search_items(q="领证")) == []  # the old keywords left with the old version
    assert [v.number for v in selectors.search_items(q="结婚")] == [2]


def test_a_scheduled_version_takes_over_on_its_day(catalog):
    Synonym.objects.all().delete()
    old = catalog["marriage"]
    start = timezone.localdate() + dt.timedelta(days=3)
    new = services.new_draft_from(old)
    services.update_draft(new, name="婚姻登记（结婚）", keywords="结婚")
    services.publish(new, effective_from=start)
    old.refresh_from_db()
    assert old.valid_until == start
    assert names(selectors.search_items(q="领证")) == ["内地居民结婚登记"]
    assert names(selectors.search_items(q="婚姻登记")) == ["内地居民结婚登记"]  # its conditions
    with freeze_time(start + dt.timedelta(hours=12)):
        assert names(selectors.search_items(q="领证")) == []
        assert names(selectors.search_items(q="结婚")) == ["婚姻登记（结婚）"]
        assert selectors.get_current_version(old.item.code) == new
        assert old.item.current_version == new


def test_reindex_command_and_the_rebuild_after_migrate(catalog, capsys):
    before = {q: names(selectors.search_items(q=q)) for q in ["营业执照", "yyzz", "结婚", "开饭店"]}
    SearchTerm.objects.all().delete()
    SearchWord.objects.all().delete()
    assert names(selectors.search_items(q="营业执照")) == []
    call_command("reindex_catalog")
    assert "已重建搜索索引：4 个事项版本" in capsys.readouterr().out
    assert {q: names(selectors.search_items(q=q)) for q in before} == before
    # an upgraded installation: migrate builds the index once when it is empty
    SearchTerm.objects.all().delete()
    call_command("migrate", verbosity=0)
    assert {q: names(selectors.search_items(q=q)) for q in before} == before


def test_prefix_lookup_is_a_prefix_on_both_databases(catalog):
    words = set(SearchWord.objects.filter(pinyin__prefix="yingye").values_list("word", flat=True))
    assert {"营业", "营业执照"} <= words and all(text.pinyin(w)[0].startswith("yingye") for w in words)
    assert not SearchWord.objects.filter(word__prefix="营业%").exists()  # no wildcard
    assert not SearchWord.objects.filter(word__prefix="_业").exists()


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_query_counts_do_not_grow_with_the_results(client, catalog):
    department = catalog["shop"].item.department
    search = reverse("portal:search") + "?q=营业执照"
    api = "/api/items/?q=营业执照"
    few = (_queries(client, search), _queries(client, api), _queries(client, reverse("portal:search")))
    for i in range(12):
        published_version(department=department, name=f"个体工商户变更登记{i}", keywords="营业执照")
    many = (_queries(client, search), _queries(client, api), _queries(client, reverse("portal:search")))
    assert few == many
    assert many[0] <= 12 and many[1] <= 8


def test_search_page_shows_the_suggestion(client, catalog):
    response = client.get(reverse("portal:search"), {"q": "yingyezhizao", "theme": "market"})
    page = response.content.decode()
    assert "共找到 0 项事项" in page and "您是不是要找：" in page
    assert 'href="?q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7&amp;theme=market"' in page  # keeps the filters
    follow = client.get(reverse("portal:search"), {"q": "营业执照", "theme": "market"}).content.decode()
    assert "个体工商户设立登记" in follow and "您是不是要找" not in follow
    partly = client.get(reverse("portal:search"), {"q": "营叶执照"}).content.decode()
    assert "未收录的词语已忽略：营叶" in partly


def test_guide_view_counts_popularity(client, catalog):
    item = catalog["food"].item
    client.get(reverse("portal:item_guide", args=[item.code]))
    client.get(reverse("portal:item_guide", args=[item.code]) + "?version=1")  # an old version: not counted
    item.refresh_from_db()
    assert item.popularity == 1


def test_a_guide_view_writes_one_row(catalog, django_assert_num_queries):
    """A view is one counter update: the item's few dozen search index rows are left to the periodic run."""
    item = catalog["food"].item
    with django_assert_num_queries(1):
        services.record_view(item)
    item.refresh_from_db()
    assert (item.popularity, item.indexed_popularity) == (1, 0)
    services.sync_popularity()
    item.refresh_from_db()
    assert item.indexed_popularity == 1
    assert set(SearchTerm.objects.filter(item=item).values_list("popularity", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_a_bulk_build_leaves_the_index_readable_alone(catalog):
    """After a bulk build (rebuild, load data) the terms are searchable at once and, on PostgreSQL,
    vacuumed once committed: every page of the term table is marked all-visible, so that a search
    reads the covering index without visiting the table (no wait for autovacuum)."""
    SearchTerm.objects.all().delete()
    SearchWord.objects.all().delete()
    services.index_versions(ItemVersion.objects.filter(status=ItemVersion.Status.PUBLISHED), bulk=True)
    assert names(selectors.search_items(q="营业执照")) == ["个体工商户设立登记", "有限责任公司设立登记"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relpages, relallvisible FROM pg_class WHERE relname = %s", [SearchTerm._meta.db_table]
            )
            pages, visible = cursor.fetchone()
        assert pages > 0 and visible == pages, (pages, visible)
