"""Journeys of the demo (`yiwang load-demo`, cases included) about time limits and supervision:

1. The overdue 建筑工程施工许可证核发 case (due in the past) is marked 已超期 N 个工作日 in red for the
   applicant (张伟, 经办人 of the company) on 我的办件 and the case page, and for the 住建局 on the
   workbench and the case page.
2. The `supervisor` finds the region's red and yellow cases from the workbench, filters them and opens
   one read-only (no action buttons).
3. At the window an unregistered ID number leads to a registration notice and form (not an error); the
   decision of the immediate item taken in for that new applicant has no preset choice, and deciding
   without one names the field.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from journeys import log_in
from playwright.sync_api import expect

from yiwang.core.ids import make_citizen_id, mask_citizen_id
from yiwang.demo.files import demo_data

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
AGENT = demo_data().citizens[0]  # 张伟, 经办人 of 河源市万绿湖餐饮管理有限公司
OVERDUE_ITEM = "建筑工程施工许可证核发"
RED = re.compile(r"已超期 \d+ 个工作日")


def log_out(page) -> None:
    page.get_by_role("button", name="退出").click()
    page.get_by_role("link", name="登录").wait_for()


@pytest.mark.django_db(transaction=True)
def test_overdue_marks_and_read_only_supervision(page, shots, demo):
    log_in(page, AGENT.phone)
    page.get_by_role("link", name="我的办件").click()
    row = page.locator("tr", has_text=OVERDUE_ITEM)
    mark = row.locator('[data-limit="red"]')
    assert RED.fullmatch(mark.inner_text().strip())
    # expect() retries: the page's stylesheet may still be loading when the row is first found
    expect(mark).to_have_css("background-color", "rgb(212, 53, 28)")  # red
    shots(page, "1-my-cases-overdue")
    number = row.locator(".mono").inner_text().strip()
    row.get_by_role("link", name=OVERDUE_ITEM).click()
    assert RED.fullmatch(page.locator('.status-line [data-limit="red"]').inner_text().strip())
    assert "已超过办理期限" in page.locator("#time-limit-notice").inner_text()
    shots(page, "2-case-page-overdue")
    log_out(page)

    log_in(page, "zj_handler")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作台").click()
    red_queue = page.locator("#queue-red")
    assert RED.fullmatch(red_queue.locator("tr", has_text=number).locator('[data-limit="red"]').inner_text().strip())
    shots(page, "3-workbench-overdue")
    red_queue.get_by_role("link", name=OVERDUE_ITEM).click()
    assert RED.search(page.locator("#due-date").inner_text())
    shots(page, "4-staff-case-overdue")
    log_out(page)

    log_in(page, "supervisor")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作台").click()
    panel = page.locator("#workbench-supervision").inner_text()
    assert re.search(r"红色预警 [1-9]\d* 件", panel)
    shots(page, "5-supervisor-workbench")
    page.get_by_role("link", name="查看监督清单").click()
    page.get_by_role("heading", level=1, name="效能监督").wait_for()
    table = page.locator("#supervision-cases")
    assert number in table.inner_text() and "河源市住房和城乡建设局" in table.inner_text()
    shots(page, "6-supervision")
    page.get_by_label("预警", exact=True).select_option(label="黄色（即将到期）")
    page.get_by_role("button", name="筛选").click()
    assert number not in page.locator("main").inner_text()
    assert page.locator('#supervision-cases [data-limit="yellow"]').count() >= 1
    assert page.locator('#supervision-cases [data-limit="red"]').count() == 0
    shots(page, "7-supervision-yellow")
    page.goto(page.base_url + "/supervision/?level=red")
    page.get_by_role("link", name=OVERDUE_ITEM).click()
    page.locator("#read-only-notice").wait_for()
    assert page.locator("form.action-form").count() == 0 and page.locator("#actions-title").count() == 0
    shots(page, "8-supervisor-case-read-only")


@pytest.mark.django_db(transaction=True)
def test_window_registers_a_new_applicant_and_the_decision_is_not_preset(page, shots, demo, tmp_path):
    new_id = make_citizen_id("441602", dt.date(1991, 7, 9), 58)
    scan = Path(tmp_path) / "扫描件.pdf"
    scan.write_bytes(PDF)
    log_in(page, "window")
    page.goto(page.base_url + "/window/")
    page.get_by_label("申请人公民身份号码").fill(new_id)
    page.get_by_role("button", name="查找申请人").click()
    notice = page.locator("#window-register-notice")
    assert "尚未登记" in notice.inner_text()
    assert page.locator(".error-summary").count() == 0 and "请修改以下内容" not in page.content()
    assert page.get_by_label("申请人公民身份号码").input_value() == new_id
    shots(page, "1-not-registered-yet")
    page.get_by_label("姓名").fill("陈小红")
    page.get_by_label("手机号码").fill("13700000088")
    page.get_by_role("button", name="登记申请人").click()
    assert mask_citizen_id(new_id) in page.locator("#window-applicant").inner_text()
    shots(page, "2-registered")

    page.get_by_placeholder("事项名称、关键词或部门").fill("就业创业证")
    page.get_by_role("button", name="搜索事项").click()
    page.get_by_role("link", name="收件 就业创业证申领").click()
    page.get_by_label("申请人姓名").fill("陈小红")
    assert page.get_by_label("公民身份号码").input_value() == mask_citizen_id(new_id)  # prefilled
    page.get_by_label("联系电话").fill("13700000088")
    page.get_by_label("文化程度").select_option(label="本科")
    page.locator("fieldset.material", has_text="申请人居民身份证").get_by_label("上传文件").set_input_files(scan)
    page.get_by_label("窗口领取").check()
    accept = page.get_by_label("材料齐全，当场受理并出具受理回执")
    assert not accept.is_checked()  # acceptance is not preset either
    accept.check()
    page.get_by_role("button", name="收件").click()
    page.get_by_text("已收件并受理").wait_for()

    assert not page.get_by_label("准予办理").is_checked() and not page.get_by_label("不予办理").is_checked()
    page.get_by_role("button", name="作出决定", exact=True).click()
    page.get_by_role("alert").wait_for()
    assert "请选择审批决定：准予办理或不予办理。" in page.locator("#action-decide").inner_text()
    assert page.locator("#case-status").inner_text() == "已受理"
    shots(page, "3-decision-must-be-chosen")
    page.get_by_label("准予办理").check()
    page.get_by_role("button", name="作出决定", exact=True).click()
    page.get_by_text("已作出准予办理的决定，决定书已生成。").wait_for()
