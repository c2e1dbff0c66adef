"""The applicant's form in a browser: one submit names every problem (form and materials) and keeps
the files already chosen; the form is prefilled from the account; corrections get upload slots."""

from __future__ import annotations

from pathlib import Path

import pytest
from journeys import log_in

from yiwang.core.ids import mask_citizen_id
from yiwang.demo.files import demo_data

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
CITIZEN = demo_data().citizens[0]  # 张伟, logs in with his phone number


@pytest.fixture
def scan(tmp_path) -> Path:
    path = tmp_path / "身份证扫描件.pdf"
    path.write_bytes(PDF)
    return path


@pytest.mark.django_db(transaction=True)
def test_one_submit_names_every_problem_and_keeps_the_chosen_file(page, shots, demo_catalog, scan, tmp_path):
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
    identity = page.locator("fieldset.material", has_text="申请人居民身份证")
    identity.get_by_label("上传文件").set_input_files(scan)
    # the pledge is not ticked and the bank-account material is missing: one answer names both
    page.get_by_role("button", name="提交申请").click()
    summary = page.get_by_role("alert").inner_text()
    assert "请勾选「本人承诺所填信息及提交材料真实、有效」。" in summary
    assert "请提供“社会保障卡或银行账户信息”。" in summary
    # the file chosen before is kept: shown as uploaded, not to be chosen again
    identity = page.locator("fieldset.material", has_text="申请人居民身份证")
    assert "已上传：身份证扫描件.pdf" in identity.inner_text()
    assert "无需重新选择" in page.locator("main").inner_text()
    assert page.get_by_label("收款银行账号").input_value() == "6222021234567890123"
    shots(page, "1-all-errors-file-kept")

    page.get_by_label("本人承诺所填信息及提交材料真实、有效").check()
    account = tmp_path / "银行卡.pdf"
    account.write_bytes(PDF)
    page.locator("fieldset.material", has_text="社会保障卡或银行账户信息").get_by_label("上传文件").set_input_files(
        account
    )
    page.get_by_role("button", name="提交申请").click()
    page.get_by_role("heading", name="申请已提交").wait_for()
    shots(page, "2-submitted")
    page.get_by_role("link", name="查看办件").click()
    materials = page.locator("main").inner_text()
    assert "身份证扫描件.pdf" in materials and "银行卡.pdf" in materials


@pytest.mark.django_db(transaction=True)
def test_the_apply_page_is_prefilled_for_a_demo_citizen(page, shots, demo_catalog):
    log_in(page, CITIZEN.phone)
    page.goto(page.base_url + "/search/?q=失业保险金")
    page.get_by_role("link", name="失业保险金申领").click()
    page.get_by_role("link", name="在线办理").click()
    page.get_by_role("heading", level=1, name="失业保险金申领").wait_for()
    assert page.get_by_label("申请人姓名").input_value() == CITIZEN.name
    assert page.get_by_label("联系电话").input_value() == CITIZEN.phone
    id_field = page.get_by_label("公民身份号码")
    assert id_field.input_value() == mask_citizen_id(CITIZEN.id_number) and not id_field.is_editable()
    assert CITIZEN.id_number not in page.content()
    shots(page, "prefilled")
