"""Case journeys through the demo catalog, as the people involved make them in a browser.

1. A citizen applies online for 失业保险金申领 with uploads and gets a case number; the 人社局 back
   office accepts it, the handler and the reviewer pass it, the approver approves, completes and delivers
   it electronically; the citizen sees 已送达 on 我的办件 and downloads the 决定书 PDF; anyone can query
   the progress with the case number and the last four characters of the ID number.
2. At the comprehensive window a clerk finds the applicant by ID number (shown masked), takes in an
   immediate item (就业创业证申领) of another department, prints the 受理回执 and decides on the spot.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from journeys import log_in
from playwright.sync_api import expect

from yiwang.core.ids import mask_citizen_id
from yiwang.demo.files import demo_data

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
CITIZEN = demo_data().citizens[0]  # 张伟, logs in with his phone number


@pytest.fixture
def scan(tmp_path) -> Path:
    path = tmp_path / "扫描件.pdf"
    path.write_bytes(PDF)
    return path


def log_out(page) -> None:
    page.get_by_role("button", name="退出").click()
    page.get_by_role("link", name="登录").wait_for()


def staff_open(page, number: str) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作台").click()
    page.get_by_role("heading", level=1, name="工作台").wait_for()
    page.get_by_label("办件编号").fill(number)
    page.get_by_role("button", name="打开").click()
    page.locator("#case-status").wait_for()


def act(page, button: str, done: str, status: str | None = None) -> None:
    """Press an action button and wait for the page that answers it: its message and, given ``status``,
    the case's new status — a condition that the page before the click cannot already satisfy."""
    page.get_by_role("button", name=button, exact=True).click()
    if status is not None:
        expect(page.locator("#case-status")).to_have_text(status)
    expect(page.get_by_text(done)).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_online_application_to_delivery(page, shots, demo_catalog, scan, tmp_path):
    # the citizen finds the item, reads its guide and applies online
    log_in(page, CITIZEN.phone)
    page.goto(page.base_url + "/search/?q=失业保险金")
    page.get_by_role("link", name="失业保险金申领").click()
    page.get_by_role("link", name="在线办理").click()
    page.get_by_role("heading", level=1, name="失业保险金申领").wait_for()
    page.get_by_label("申请人姓名").fill(CITIZEN.name)
    # prefilled from the account, masked and read-only
    assert page.get_by_label("公民身份号码").input_value() == mask_citizen_id(CITIZEN.id_number)
    page.get_by_label("联系电话").fill("13800000001")
    page.get_by_label("收款银行账号").fill("6222021234567890123")
    shots(page, "1-apply-form")

    # mistakes are named in the summary and next to their fields; what was typed stays
    page.get_by_role("button", name="提交申请").click()
    assert "请勾选「本人承诺所填信息及提交材料真实、有效」。" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("收款银行账号").input_value() == "6222021234567890123"
    page.get_by_label("本人承诺所填信息及提交材料真实、有效").check()
    page.get_by_role("button", name="提交申请").click()
    summary = page.get_by_role("alert").inner_text()
    assert "请提供“申请人居民身份证”。" in summary and "请提供“社会保障卡或银行账户信息”。" in summary
    shots(page, "2-apply-errors")

    for material in ("申请人居民身份证", "社会保障卡或银行账户信息"):
        page.locator("fieldset.material", has_text=material).get_by_label("上传文件").set_input_files(scan)
    page.get_by_label("电子送达").check()
    page.get_by_role("button", name="提交申请").click()
    page.get_by_role("heading", name="申请已提交").wait_for()
    number = page.locator("#case-number").inner_text().strip()
    assert number.startswith("1144160000701006")
    shots(page, "3-submitted")
    page.get_by_role("link", name="查看办件").click()
    assert page.locator("#case-status").inner_text() == "已申报，待受理"
    log_out(page)

    # 人社局: accept, then handler → reviewer → approver
    log_in(page, "rs_handler")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作台").click()
    page.locator("#queue-accept").get_by_text(number).wait_for()
    shots(page, "4-workbench")
    staff_open(page, number)
    assert "申请人居民身份证" in page.locator(".materials-table").inner_text()
    shots(page, "5-staff-case-submitted")
    act(page, "受理", "已受理，受理回执已生成。")
    assert "下载受理回执（PDF）" in page.locator("#documents + ul").inner_text()
    act(page, "签收", "已签收。")
    page.get_by_label("办理意见").fill("材料齐全，符合条件")
    act(page, "办理通过", "已办理通过，转入下一环节。")
    shots(page, "6-handler-passed")
    log_out(page)

    log_in(page, "rs_reviewer")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作台").click()
    page.locator("#queue-claim").get_by_text(number).wait_for()
    staff_open(page, number)
    act(page, "签收", "已签收。")
    act(page, "办理通过", "已办理通过，转入下一环节。")
    log_out(page)

    log_in(page, "rs_approver")
    staff_open(page, number)
    act(page, "签收", "已签收。")
    page.get_by_label("准予办理").check()
    page.get_by_label("决定理由").fill("符合失业保险金申领条件")
    shots(page, "7-approver-decides")
    act(page, "作出决定", "已作出准予办理的决定，决定书已生成。")
    act(page, "办结", "已办结。")
    page.get_by_label("电子送达").check()
    act(page, "确认送达", "已送达。")
    assert page.locator("#case-status").inner_text() == "已送达"
    shots(page, "8-delivered")
    log_out(page)

    # the citizen sees it done and downloads the decision
    log_in(page, CITIZEN.phone)
    page.get_by_role("link", name="我的办件").click()
    row = page.locator("tr", has_text=number)
    assert "已送达" in row.inner_text()
    shots(page, "9-my-cases")
    row.get_by_role("link", name="失业保险金申领").click()
    timeline = page.locator("#case-timeline").inner_text()
    assert "受理" in timeline and "准予办理" in timeline and "送达" in timeline
    assert "rs_handler" not in page.content()  # departments, never the person
    with page.expect_download() as info:
        page.get_by_role("link", name="下载决定书（PDF）").click()
    saved = tmp_path / "decision.pdf"
    info.value.save_as(saved)
    assert info.value.suggested_filename == f"{number}-决定书.pdf"
    assert saved.read_bytes().startswith(b"%PDF-")
    shots(page, "10-case-page")
    log_out(page)

    # anyone: progress by number + last four characters of the ID number
    page.get_by_role("navigation", name="便民服务").get_by_role("link", name="办件进度查询").click()
    page.get_by_label("办件编号").fill(number)
    page.get_by_label("申请人证件号码后四位").fill(CITIZEN.id_number[-4:])
    page.get_by_role("button", name="查询").click()
    assert page.locator("#progress-status").inner_text() == "已送达"
    assert CITIZEN.name not in page.locator("main").inner_text()
    shots(page, "11-progress-query")


@pytest.mark.django_db(transaction=True)
def test_window_clerk_immediate_item_with_receipt(page, shots, demo_catalog, scan, tmp_path):
    applicant = demo_data().citizens[1]  # 李娜
    page.set_viewport_size({"width": 390, "height": 844})  # the desk also works on a small screen
    log_in(page, "window")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作台").click()
    page.get_by_role("link", name="综合窗口收件").click()
    page.get_by_label("申请人公民身份号码").fill(applicant.id_number)
    page.get_by_role("button", name="查找申请人").click()
    expect(page.locator("#window-applicant")).to_contain_text(applicant.name)
    shown = page.locator("#window-applicant").inner_text()
    assert applicant.name in shown and mask_citizen_id(applicant.id_number) in shown
    assert applicant.id_number not in page.content()
    shots(page, "1-applicant-found")

    page.get_by_placeholder("事项名称、关键词或部门").fill("就业创业证")
    page.get_by_role("button", name="搜索事项").click()
    page.get_by_role("link", name="收件 就业创业证申领").click()
    page.get_by_label("申请人姓名").fill(applicant.name)
    assert page.get_by_label("公民身份号码").input_value() == mask_citizen_id(applicant.id_number)
    page.get_by_label("联系电话").fill(applicant.phone)
    page.get_by_label("文化程度").select_option(label="本科")
    page.locator("fieldset.material", has_text="申请人居民身份证").get_by_label("上传文件").set_input_files(scan)
    page.get_by_label("窗口领取").check()
    accept = page.get_by_label("材料齐全，当场受理并出具受理回执")
    assert not accept.is_checked()  # no preset decision: the clerk ticks it after checking the papers
    accept.check()
    shots(page, "2-window-form")
    page.get_by_role("button", name="收件").click()
    expect(page.locator("#case-status")).to_have_text("已受理")  # the staff case page of the new case
    expect(page.get_by_text("已收件并受理")).to_be_visible()
    shots(page, "3-accepted")

    with page.expect_download() as info:
        page.get_by_role("link", name="下载受理回执（PDF）").click()
    receipt = tmp_path / "receipt.pdf"
    info.value.save_as(receipt)
    assert receipt.read_bytes().startswith(b"%PDF-") and info.value.suggested_filename.endswith("受理回执.pdf")

    # 即办件: decided, completed and handed over at the desk
    page.get_by_label("准予办理").check()
    act(page, "作出决定", "已作出准予办理的决定，决定书已生成。", status="准予办理")
    act(page, "办结", "已办结。", status="已办结")
    page.get_by_label("窗口领取").check()
    act(page, "确认送达", "已送达。", status="已送达")
    shots(page, "4-delivered-on-the-spot")
