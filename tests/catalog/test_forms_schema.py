import datetime as dt

import pytest

from yiwang.catalog.forms_schema import prefilled_fields, validate_form_data, validate_schema
from yiwang.core.errors import InvalidInput
from yiwang.core.ids import make_citizen_id, make_uscc

SCHEMA = [
    {"name": "shop_name", "label": "店铺名称", "type": "text", "required": True, "max_length": 10},
    {"name": "intro", "label": "经营简介", "type": "textarea"},
    {"name": "staff", "label": "从业人数", "type": "number", "required": True, "min": 1, "max": 500},
    {"name": "area", "label": "经营面积", "type": "number"},
    {"name": "opening", "label": "开业日期", "type": "date", "min": "2020-01-01"},
    {
        "name": "category",
        "label": "经营类别",
        "type": "select",
        "required": True,
        "options": [{"value": "retail", "label": "食品销售"}, {"value": "catering", "label": "餐饮服务"}],
    },
    {"name": "pledge", "label": "承诺所填信息真实", "type": "checkbox", "required": True},
    {"name": "delivery", "label": "需要邮寄", "type": "checkbox"},
    {"name": "holder_id", "label": "经营者身份证号", "type": "id_number", "required": True},
    {"name": "company_code", "label": "统一社会信用代码", "type": "uscc"},
    {"name": "phone", "label": "联系电话", "type": "phone", "required": True},
    {
        "name": "plate",
        "label": "车牌号",
        "type": "text",
        "pattern": "粤[A-Z][A-Z0-9]{5}",
        "pattern_message": "车牌号格式不对",
    },
]

ID = make_citizen_id("441602", dt.date(1990, 5, 12), 123)
USCC = make_uscc("91441602", "MA4UP123")


def good(**changes):
    data = {
        "shop_name": " 万绿湖小吃 ",
        "staff": "3",
        "area": "45.5",
        "opening": "2026-03-01",
        "category": "catering",
        "pledge": "on",
        "holder_id": ID[:6] + " " + ID[6:].lower(),
        "company_code": USCC,
        "phone": "138 0000 0001",
        "plate": "粤P12345",
        "unknown": "dropped",
    }
    data.update(changes)
    return data


def errors_of(data):
    with pytest.raises(InvalidInput) as info:
        validate_form_data(SCHEMA, data)
    return info.value.errors


def test_valid_data_is_cleaned_to_json_ready_values():
    cleaned = validate_form_data(SCHEMA, good())
    assert cleaned["shop_name"] == "万绿湖小吃"
    assert cleaned["staff"] == 3 and cleaned["area"] == 45.5
    assert cleaned["opening"] == "2026-03-01"
    assert cleaned["category"] == "catering"
    assert cleaned["pledge"] is True and cleaned["delivery"] is False
    assert cleaned["holder_id"] == ID
    assert cleaned["phone"] == "13800000001"
    assert cleaned["intro"] is None
    assert "unknown" not in cleaned


def test_every_wrong_field_is_reported_at_once_in_chinese():
    errors = errors_of(
        good(
            shop_name="",
            staff="0",
            area="很大",
            opening="2019-12-31",
            category="hotel",
            pledge="",
            holder_id=ID[:-1] + ("0" if ID[-1] != "0" else "1"),
            company_code="91441602MA4UP1230",
            phone="12345",
            plate="京A12345",
        )
    )
    # the identifier messages come from yiwang.core.ids; only their prefix is ours
    assert errors.pop("holder_id").startswith("「经营者身份证号」：公民身份号码")
    assert errors.pop("company_code").startswith("「统一社会信用代码」：统一社会信用代码应为18位")
    assert errors == {
        "shop_name": "请填写「店铺名称」。",
        "staff": "「从业人数」不能小于1。",
        "area": "「经营面积」应为数字。",
        "opening": "「开业日期」不能早于2020-01-01。",
        "category": "「经营类别」请从给出的选项中选择。",
        "pledge": "请勾选「承诺所填信息真实」。",
        "phone": "「联系电话」应为11位手机号码或带区号的固定电话，例如 13800000000 或 0762-3388123。",
        "plate": "车牌号格式不对",
    }


def test_length_upper_bound_and_dates():
    errors = errors_of(good(shop_name="一二三四五六七八九十一", staff=501, opening="2026-02-30"))
    assert errors["shop_name"] == "「店铺名称」不能超过10个字（当前11个）。"
    assert errors["staff"] == "「从业人数」不能大于500。"
    assert errors["opening"].startswith("「开业日期」应为有效日期")


def test_missing_select_asks_to_choose_and_landline_is_accepted():
    errors = errors_of(good(category=None))
    assert errors == {"category": "请选择「经营类别」。"}
    assert validate_form_data(SCHEMA, good(phone="0762-3388123"))["phone"] == "07623388123"


def test_the_message_summarises_the_errors():
    with pytest.raises(InvalidInput) as info:
        validate_form_data(SCHEMA, good(shop_name="", phone="1"))
    assert info.value.message.startswith("申请表有2处需要修改：请填写「店铺名称」。")


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"name": "a"}, "缺少标签 label"),
        ({"name": "A b", "label": "x", "type": "text"}, "name 应以小写字母开头"),
        ({"name": "a", "label": "x", "type": "file"}, "类型「file」不受支持"),
        ({"name": "a", "label": "x", "type": "select"}, "须有 options 选项列表"),
        ({"name": "a", "label": "x", "type": "select", "options": ["1", "1"]}, "选项的值有重复"),
        ({"name": "a", "label": "x", "type": "number", "max_length": 3}, "只有文本字段可以设置 max_length"),
        ({"name": "a", "label": "x", "type": "text", "pattern": "("}, "不是有效的正则表达式"),
        ({"name": "a", "label": "x", "type": "number", "min": "1"}, "min 应为数字"),
        ({"name": "a", "label": "x", "type": "date", "max": "明天"}, "max 应为日期"),
        ({"name": "a", "label": "x", "type": "text", "colour": "red"}, "不支持的属性 colour"),
        ({"name": "a", "label": "x", "type": "text", "required": "yes"}, "required 应为 true 或 false"),
    ],
)
def test_bad_schemas_are_refused_with_the_field_named(schema, fragment):
    with pytest.raises(InvalidInput) as info:
        validate_schema([schema])
    assert fragment in info.value.message
    assert info.value.message.startswith("申请表定义有误：第1个字段")


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "delivery", "label": "结果领取方式", "type": "select", "options": ["窗口领取", "邮寄"]},
        {"name": "get_result", "label": "办理结果送达方式", "type": "text"},
        {"name": "delivery_method", "label": "方式", "type": "text"},
    ],
)
def test_a_form_may_not_ask_for_delivery_a_second_time(spec):
    # the application page asks 办理结果送达方式 (what delivery uses): a form field would ask it twice
    with pytest.raises(InvalidInput, match="申请表中不要另设此字段"):
        validate_schema([spec])
    # a definition stored before the rule still checks an applicant's data
    assert validate_form_data([{**spec, "required": False}], {}) == {spec["name"]: None}


def test_duplicate_field_names_and_non_list_schema():
    with pytest.raises(InvalidInput, match="与前面的字段重复"):
        validate_schema([{"name": "a", "label": "x", "type": "text"}, {"name": "a", "label": "y", "type": "text"}])
    with pytest.raises(InvalidInput, match="应为字段列表"):
        validate_schema({"name": "a"})


def test_validate_form_data_refuses_a_bad_schema():
    with pytest.raises(InvalidInput, match="申请表定义有误"):
        validate_form_data([{"name": "a", "label": "x", "type": "colour"}], {"a": "red"})


def test_a_field_may_name_what_the_platform_fills_in():
    schema = [
        {"name": "applicant", "label": "申请人", "type": "text", "prefill": "person.name"},
        {"name": "phone", "label": "联系电话", "type": "phone", "prefill": "person.phone"},
        {"name": "code", "label": "统一社会信用代码", "type": "uscc", "prefill": "org.uscc"},
        {"name": "note", "label": "备注", "type": "text"},
    ]
    assert validate_schema(schema) == schema
    values = {"person.name": "林小雨", "person.phone": "13800000000", "person.address": "源城区"}
    # only the fields that name a source with a value; nothing else is touched
    assert prefilled_fields(schema, values) == {"applicant": "林小雨", "phone": "13800000000"}


@pytest.mark.parametrize("source", ["person.email", "org.phone", "", ["person.name"]])
def test_an_unknown_prefill_source_is_refused_naming_the_field(source):
    spec = {"name": "contact", "label": "联系人", "type": "text", "prefill": source}
    with pytest.raises(InvalidInput) as info:
        validate_schema([spec])
    message = info.value.message
    assert message.startswith("申请表定义有误：第1个字段「contact」：prefill")
    assert "不是可预填的信息来源" in message and "person.phone" in message  # says what is available
