"""Journeys through the demo catalog: search, filter, read a service guide, download its PDF, and a
catalog manager who publishes a change in the admin."""

from pathlib import Path

import pytest
from catalog.pdftools import embeds_cjk_font, info_string

from yiwang.catalog.models import ItemVersion
from yiwang.demo.files import demo_data


@pytest.mark.django_db(transaction=True)
def test_search_the_demo_catalog_open_a_guide_and_download_its_pdf(page, shots, demo_catalog, tmp_path):
    page.goto(page.base_url + "/")
    assert "河源市 一网通办" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("heading", name="个人办事").wait_for()
    page.get_by_role("heading", name="法人办事").wait_for()
    shots(page, "home")

    page.get_by_role("search").get_by_label("搜索办事事项").fill("食品")
    page.get_by_role("search").get_by_role("button", name="搜索").click()
    # 药品零售企业许可 matches too (its guide speaks of 食品); the food licence ranks first
    page.get_by_text("共找到 2 项事项").wait_for()
    shots(page, "search")

    page.get_by_role("link", name="食品经营许可（新办）").click()
    page.get_by_role("heading", level=1, name="食品经营许可（新办）").wait_for()
    materials = page.locator("#materials + p + table")
    assert "营业执照" in materials.inner_text() and "免提交" in materials.inner_text()
    assert "许可决定" in page.locator("ol.timeline").inner_text()
    shots(page, "guide")

    with page.expect_download() as info:
        page.get_by_role("link", name="下载 PDF").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf") and "食品经营许可" in download.suggested_filename
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data = Path(saved).read_bytes()
    assert data.startswith(b"%PDF-")
    assert embeds_cjk_font(data)
    assert info_string(data, "Title") == "食品经营许可（新办） 办事指南"


@pytest.mark.django_db(transaction=True)
def test_filters_and_a_phone_sized_screen(page, shots, demo_catalog):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/search/")
    page.get_by_label("服务对象").select_option(label="个人")
    page.get_by_label("到现场次数").select_option(label="零跑动（0次）")
    page.get_by_role("button", name="筛选").click()
    count = page.locator("#result-count").inner_text()
    assert count.startswith("共找到") and "0 项" not in count.split("找到")[1][:3]
    for tag in page.locator(".result").all()[:3]:
        assert "零跑动" in tag.inner_text()
    shots(page, "zero-visit-phone")

    page.locator(".result h2 a").first.click()
    page.get_by_role("link", name="下载 PDF").wait_for()
    # on a phone the materials table stacks its cells and labels each one
    first_cell = page.locator("table.responsive tbody tr").first.locator("td").nth(1)
    assert first_cell.bounding_box()["width"] > 300
    shots(page, "guide-phone")


@pytest.mark.django_db(transaction=True)
def test_a_catalog_manager_changes_an_item_in_the_admin(page, shots, demo_catalog):
    page.goto(page.base_url + "/admin/login/")
    page.get_by_label("用户名").fill("catalog")
    page.get_by_label("密码").fill(demo_data().password)
    page.get_by_role("button", name="登录").click()
    page.goto(page.base_url + "/admin/catalog/itemversion/?q=%E5%A4%B1%E4%B8%9A%E7%99%BB%E8%AE%B0")  # q=失业登记
    page.get_by_role("link", name="失业登记").first.click()
    page.get_by_text("内容不可修改", exact=False).wait_for()
    shots(page, "admin-published-read-only")

    page.get_by_role("button", name="新建草稿版本").click()
    page.get_by_text("已新建草稿版本。").wait_for()
    page.get_by_label("承诺办结时限（工作日）").fill("0")
    page.get_by_label("关键词").fill("失业 登记失业 找工作 就业服务 失业金")
    page.get_by_role("button", name="保存并继续编辑").click()
    page.get_by_role("button", name="发布（今天生效）").click()
    page.get_by_text("已发布，今天起生效。").wait_for()
    shots(page, "admin-published")

    draft = ItemVersion.objects.get(name="失业登记", number=2)
    assert draft.status == ItemVersion.Status.PUBLISHED and "失业金" in draft.keywords
    page.goto(page.base_url + "/search/?q=%E5%A4%B1%E4%B8%9A%E9%87%91")  # q=失业金
    page.get_by_role("link", name="失业登记").wait_for()
