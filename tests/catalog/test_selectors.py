import datetime as dt

import pytest
from django.http import QueryDict
from django.utils import timezone

from catalog.factories import DepartmentFactory, RegionFactory, draft_version, published_version
from yiwang.catalog import selectors, services
from yiwang.catalog.models import Handling, ItemType, ItemVersion, OnlineDepth, ServiceObject, Theme
from yiwang.core.errors import InvalidInput, NotFound
from yiwang.identity.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    city = RegionFactory()
    county = RegionFactory(code="441602", name="源城区", level=Region.Level.COUNTY, parent=city)
    market = DepartmentFactory(name="河源市市场监督管理局", short_name="市场监管局", region=city)
    health = DepartmentFactory(name="源城区卫生健康局", region=county)
    police = DepartmentFactory(name="河源市公安局", region=city)
    items = {
        "food": published_version(
            department=market,
            name="食品经营许可",
            keywords="餐饮 开饭店 小吃店",
            service_object=ServiceObject.ORGANISATION,
            theme=Theme.FOOD,
        ),
        "hygiene": published_version(
            department=health,
            level="4",
            name="公共场所卫生许可",
            keywords="理发店 宾馆",
            service_object=ServiceObject.BOTH,
            theme=Theme.HEALTH,
        ),
        "birth": published_version(
            department=police,
            name="户口登记（出生）",
            keywords="新生儿 落户 报户口",
            item_type=ItemType.CONFIRMATION,
            handling=Handling.IMMEDIATE,
            promised_days=0,
            theme=Theme.HOUSEHOLD,
        ),
        "permit": published_version(
            department=police,
            name="居住证签注",
            keywords="居住证 续签",
            online_depth=OnlineDepth.FULLY_ONLINE,
            max_visits=0,
            theme=Theme.HOUSEHOLD,
        ),
    }
    draft_version(department=police, name="机动车驾驶证换证")  # never published: never found
    retired = published_version(department=police, name="身份证挂失")
    services.retire(retired)
    return items


def names(qs):
    # sorted here: the database orders by its collation (code points on C.UTF-8, pinyin on zh_CN)
    return sorted(v.name for v in qs)


def test_only_current_published_versions_are_listed(catalog):
    assert names(selectors.search_items()) == ["公共场所卫生许可", "居住证签注", "户口登记（出生）", "食品经营许可"]


def test_search_by_words_in_name_keywords_and_department(catalog):
    assert names(selectors.search_items(q="卫生")) == ["公共场所卫生许可"]
    assert names(selectors.search_items(q="小吃店")) == ["食品经营许可"]
    assert names(selectors.search_items(q="公安局")) == ["居住证签注", "户口登记（出生）"]
    assert names(selectors.search_items(q="市场监管局")) == ["食品经营许可"]
    # every word must match, each anywhere
    assert names(selectors.search_items(q="公安局 落户")) == ["户口登记（出生）"]
    assert names(selectors.search_items(q="许可，宾馆")) == ["公共场所卫生许可"]
    assert names(selectors.search_items(q="驾驶证")) == []
    assert names(selectors.search_items(q="身份证")) == []


def test_filters(catalog):
    assert names(selectors.search_items(service_object="person")) == [
        "公共场所卫生许可",
        "居住证签注",
        "户口登记（出生）",
    ]
    assert names(selectors.search_items(service_object="organisation")) == ["公共场所卫生许可", "食品经营许可"]
    assert names(selectors.search_items(theme="household")) == ["居住证签注", "户口登记（出生）"]
    food_department = catalog["food"].item.department.credit_code
    assert names(selectors.search_items(department=food_department)) == ["食品经营许可"]
    assert names(selectors.search_items(region="441602")) == ["公共场所卫生许可"]
    assert len(selectors.search_items(region="441600")) == 4  # the city includes its districts
    assert names(selectors.search_items(item_type="07")) == ["户口登记（出生）"]
    assert names(selectors.search_items(handling="1")) == ["户口登记（出生）"]
    assert names(selectors.search_items(online_depth=4)) == ["居住证签注"]
    assert names(selectors.search_items(zero_visit=True)) == ["居住证签注"]
    assert len(selectors.search_items(zero_visit=False)) == 3
    assert names(selectors.search_items(q="许可", service_object="person")) == ["公共场所卫生许可"]


def test_parse_filters_from_a_query_string(catalog):
    filters = selectors.parse_filters(QueryDict("q=+许可+&service_object=法人&zero_visit=false&online_depth=3"))
    assert filters.q == "许可"
    assert filters.service_object == "organisation"
    assert filters.zero_visit is False and filters.online_depth == 3
    assert names(selectors.search_items(filters)) == ["公共场所卫生许可", "食品经营许可"]
    assert filters.active == {"q": "许可", "service_object": "organisation", "online_depth": 3, "zero_visit": False}


def test_a_bad_choice_lists_the_choices_by_their_chinese_labels():
    """Not the stored codes alone ("market、food…"): the page is Chinese."""
    with pytest.raises(InvalidInput) as info:
        selectors.parse_filters(QueryDict("theme=space"))
    assert "可选：市场准入（market）、食品药品（food）、" in info.value.message
    with pytest.raises(InvalidInput) as info:
        selectors.parse_filters(QueryDict("online_depth=5"))
    assert info.value.message.endswith(
        "可选：一级：网上咨询（1）、二级：下载表格（2）、三级：网上预审受理（3）、四级：全程网办（4）。"
    )


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("service_object=外国人", "service_object", "「服务对象」的取值「外国人」无效，可选：个人、法人。"),
        ("theme=space", "theme", "「主题分类」的取值「space」无效"),
        ("item_type=99", "item_type", "「事项类型」的取值「99」无效"),
        ("handling=3", "handling", "「办件类型」的取值「3」无效"),
        ("online_depth=5", "online_depth", "「网上办理深度」的取值「5」无效"),
        ("zero_visit=maybe", "zero_visit", "「零跑动」的取值应为 true 或 false。"),
        ("department=91441600000000000X", "department", "没有统一社会信用代码为 91441600000000000X 的部门。"),
        ("region=999999", "region", "没有区划代码为 999999 的行政区划。"),
    ],
)
def test_bad_filter_values_name_the_filter(query, field, message):
    with pytest.raises(InvalidInput) as info:
        selectors.parse_filters(QueryDict(query))
    assert info.value.field == field
    assert info.value.message.startswith(message)


def test_pagination_clamps_page_numbers(catalog):
    page = selectors.paginate(selectors.search_items(), page=2, per_page=3)
    assert len(page.object_list) == 1 and page.number == 2
    assert selectors.paginate(selectors.search_items(), page="x", per_page=3).number == 1
    assert selectors.paginate(selectors.search_items(), page=99, per_page=3).number == 2
    assert selectors.paginate(selectors.search_items(), page=1, per_page=1000).paginator.per_page == 100


def test_current_version_follows_effective_dates(catalog):
    v1 = catalog["food"]
    v2 = services.publish(services.new_draft_from(v1), effective_from=timezone.localdate() + dt.timedelta(days=3))
    assert selectors.get_current_version(v1.item.code) == v1
    assert [v.number for v in selectors.search_items(q="食品")] == [1]
    assert selectors.get_version(v1.item.code, 2) == v2


def test_lookups_raise_not_found_in_chinese(catalog):
    with pytest.raises(NotFound) as info:
        selectors.get_item("NOPE")
    assert info.value.message == "未找到事项编码为「NOPE」的政务服务事项。"
    assert selectors.get_item(catalog["food"].item.code.lower()) == catalog["food"].item
    retired = ItemVersion.objects.get(name="身份证挂失")
    with pytest.raises(NotFound, match="目前没有生效的版本"):
        selectors.get_current_version(retired.item.code)
    with pytest.raises(NotFound, match="没有第7版"):
        selectors.get_version(retired.item.code, 7)
    draft = ItemVersion.objects.get(name="机动车驾驶证换证")
    with pytest.raises(NotFound):
        selectors.get_version(draft.item.code, 1)
    assert selectors.get_version(draft.item.code, 1, include_drafts=True) == draft


def test_overview_counts_for_the_home_page(catalog):
    overview = selectors.catalog_overview()
    assert overview["total"] == 4
    assert (overview["person"], overview["organisation"], overview["zero_visit"]) == (3, 2, 1)
    assert overview["person_themes"] == [
        {"theme": "household", "label": "户籍办理", "count": 2},
        {"theme": "health", "label": "医疗卫生", "count": 1},
    ]
    assert [t["theme"] for t in overview["organisation_themes"]] == ["food", "health"]
    assert overview["by_department"][0] == {
        "credit_code": catalog["birth"].item.department.credit_code,
        "name": "河源市公安局",
        "count": 2,
    }
