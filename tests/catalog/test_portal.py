import pytest
from django.urls import reverse

from catalog.factories import DepartmentFactory, draft_version, published_version
from catalog.pdftools import embeds_cjk_font, info_string
from yiwang.catalog import guide, services
from yiwang.catalog.models import OnlineDepth, ServiceObject, Theme
from yiwang.identity.models import StaffRole, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def food():
    market = DepartmentFactory(name="河源市市场监督管理局")
    return published_version(
        department=market,
        name="食品经营许可",
        keywords="餐饮 小吃店",
        service_object=ServiceObject.ORGANISATION,
        theme=Theme.FOOD,
        fee_basis="不收费",
        result_type="licence",
        result_name="食品经营许可证",
        result_licence_type="11100000000013338W001",
        materials=[
            {"name": "食品经营许可申请书", "note": "法定代表人签字"},
            {"name": "营业执照", "source": "licence", "source_ref": "11100000000013338W002"},
            {"name": "户口簿", "source": "shared_data", "source_ref": "POP-HOUSEHOLD", "required": False},
        ],
        stages=[
            {"name": "受理审查", "kind": "handle", "role": "handler", "time_share": 30},
            {
                "name": "现场核查",
                "kind": "review",
                "role": "reviewer",
                "order": 2,
                "parallel_group": "核查",
                "time_share": 40,
            },
            {
                "name": "规划意见",
                "kind": "review",
                "role": "reviewer",
                "order": 2,
                "parallel_group": "核查",
                "time_share": 40,
            },
            {"name": "许可决定", "kind": "decide", "role": "approver", "order": 3, "time_share": 30},
        ],
    )


@pytest.fixture
def permit():
    return published_version(
        name="居住证签注",
        keywords="居住证",
        online_depth=OnlineDepth.FULLY_ONLINE,
        max_visits=0,
        theme=Theme.HOUSEHOLD,
        handling="1",
        promised_days=0,
    )


def test_home_groups_items_for_persons_and_organisations(client, food, permit):
    page = client.get(reverse("portal:home")).content.decode()
    assert 'action="/search/"' in page and 'name="q"' in page
    assert "个人办事" in page and "法人办事" in page
    assert "?service_object=organisation&amp;theme=food" in page  # 食品药品 card for organisations
    assert "食品药品" in page and "户籍办理" in page
    assert "河源市市场监督管理局" in page  # by department
    assert reverse("portal:item_guide", args=[permit.item.code]) in page  # zero-visit list


def test_search_page_lists_results_with_filters_and_pagination(client, food, permit):
    for i in range(11):
        published_version(name=f"许可事项{i:02d}", keywords="许可")
    page = client.get(reverse("portal:search"), {"q": "许可"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "共找到 12 项事项" in html
    assert "第 1 / 2 页" in html and "q=%E8%AE%B8%E5%8F%AF&amp;page=2" in html
    second = client.get(reverse("portal:search"), {"q": "许可", "page": 2}).content.decode()
    assert second.count('class="result"') == 2
    filtered = client.get(reverse("portal:search"), {"zero_visit": "1"}).content.decode()
    assert "共找到 1 项事项" in filtered and "居住证签注" in filtered and "零跑动" in filtered
    org = client.get(reverse("portal:search"), {"service_object": "organisation"}).content.decode()
    assert "<h1>法人办事</h1>" in org and "食品经营许可" in org and "居住证签注" not in org


def test_a_bad_filter_is_explained_not_a_500(client, food):
    page = client.get(reverse("portal:search"), {"theme": "space", "q": "食品"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "筛选条件有误" in html and "「主题分类」的取值「space」无效" in html


def test_guide_page_shows_every_element(client, food):
    page = client.get(reverse("portal:item_guide", args=[food.item.code]))
    html = page.content.decode()
    assert page.status_code == 200
    for label, value in guide.summary_rows(food):
        assert label in html and str(value).split("\n")[0] in html
    for text in [
        "食品经营许可",
        "实施编码",
        food.item.code,
        "设定依据",
        "受理条件",
        "法定办结时限",
        "20个工作日",
        "承诺办结时限",
        "不收费",
        "最多1次",
        "三级：网上预审受理",
        "河源市行政服务中心一楼综合窗口",
        "0762-12345",
        "食品经营许可证（电子证照，同步签发）",
        "法定代表人签字",
        "电子证照：已有证照的免提交",
        "共享数据：部门间调取，免提交",
        "非必要（视情形提供）",
        "并联审批：核查",
        "许可决定",
        "下载 PDF",
    ]:
        assert text in html, text
    assert "POP-HOUSEHOLD" not in html and "证照类型 11100000000013338W002" not in html  # names, not codes
    assert reverse("portal:item_guide_pdf", args=[food.item.code]) in html


def test_guide_pdf_embeds_the_font_and_names_the_item(client, food):
    response = client.get(reverse("portal:item_guide_pdf", args=[food.item.code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert "%E9%A3%9F%E5%93%81" in response["Content-Disposition"]  # 食品 in the UTF-8 file name
    data = response.content
    assert data.startswith(b"%PDF-")
    assert embeds_cjk_font(data)
    assert info_string(data, "Title") == "食品经营许可 办事指南"
    assert food.item.code in info_string(data, "Subject")


def test_unknown_item_code_is_a_chinese_404(client):
    for name in ("portal:item_guide", "portal:item_guide_pdf"):
        response = client.get(reverse(name, args=["NOSUCHCODE"]))
        assert response.status_code == 404
        assert "未找到事项编码为「NOSUCHCODE」的政务服务事项。" in response.content.decode()


def test_old_versions_stay_readable_and_drafts_only_for_managers(client, food):
    services.publish(services.new_draft_from(food))
    services.update_draft(services.new_draft_from(food.item.current_version), name="食品经营许可（草案）")
    old = client.get(reverse("portal:item_guide", args=[food.item.code]), {"version": 1}).content.decode()
    assert "您正在查看第1版（已发布），不是现行版本。" in old and "查看现行第2版" in old
    assert "?version=1" in old  # the PDF button keeps the version
    assert client.get(reverse("portal:item_guide", args=[food.item.code]), {"version": 3}).status_code == 404
    manager = User.objects.create_user("manager", password="x")
    StaffRole.objects.create(user=manager, department=food.item.department, role="catalog_manager")
    client.force_login(manager)
    draft = client.get(reverse("portal:item_guide", args=[food.item.code]), {"version": 3}).content.decode()
    assert "食品经营许可（草案）" in draft and "（草稿）" in draft


def test_never_published_items_are_not_shown(client):
    draft = draft_version(name="草稿事项")
    assert client.get(reverse("portal:item_guide", args=[draft.item.code])).status_code == 404
    assert "草稿事项" not in client.get(reverse("portal:search")).content.decode()


def test_english_interface_is_available(client, food):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("portal:item_guide", args=[food.item.code])).content.decode()
    assert 'lang="en"' in html
