"""Journeys with electronic licences: the holder shows (亮证) and downloads a licence; anyone verifies it."""

import io

import pytest

from yiwang.demo import loader
from yiwang.demo.files import demo_data
from yiwang.identity.models import User
from yiwang.licences.models import Licence


@pytest.fixture
def holder(settings, tmp_path):
    """The demo province with its licences; the demo citizen 张伟 and his 个体工商户营业执照."""
    settings.DATA_DIR = tmp_path
    loader.load_people_and_catalog(io.StringIO())
    loader.load_licences(io.StringIO())
    citizen = demo_data().citizens[0]
    person = User.objects.get(username=citizen.phone).person
    licence = Licence.objects.get(type_code="11100000000013338W002", holder_digest=person.id_digest)
    return person, licence


@pytest.mark.django_db(transaction=True)
def test_holder_shows_and_downloads_a_licence_and_anyone_verifies_it(page, shots, holder, tmp_path):
    person, licence = holder
    page.goto(page.base_url + "/login/")
    page.get_by_label("手机号码 / 身份证号 / 工作人员账号").fill(person.phone)
    page.get_by_label("密码").fill(demo_data().password)
    page.get_by_role("button", name="登录").click()
    page.locator("header").get_by_role("link", name="我的证照").click()
    page.get_by_role("heading", name="我的证照").wait_for()
    row = page.get_by_role("row").filter(has_text=licence.number)
    assert "有效" in row.inner_text()
    shots(page, "wallet")

    row.get_by_role("link", name="个体工商户营业执照").click()
    qr = page.get_by_role("img", name="证照核验二维码")
    qr.wait_for()
    assert qr.evaluate("img => img.naturalWidth") > 100
    assert person.masked_id not in page.content() and person.id_number in page.content()  # the holder sees all
    shots(page, "licence")

    # the holder chooses to show the licence data as well; the code refreshes in place
    page.get_by_label("照面信息").check()
    page.get_by_role("button", name="刷新二维码").click()
    page.get_by_text("对方可见：证照名称、编号、颁发机构、有效期和当前状态、持证主体、照面信息").wait_for()
    scanned = qr.get_attribute("data-qr-url").replace("http://127.0.0.1:8000", page.base_url)

    with page.expect_download() as info:
        page.get_by_role("link", name="下载 PDF").click()
    pdf = tmp_path / "licence.pdf"
    info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    # a bank clerk, not logged in, scans the code …
    visitor = page.context.browser.new_context(locale="zh-CN")
    bank = visitor.new_page()
    bank.goto(scanned)
    verdict = bank.locator("#verdict")
    assert "核验通过：证照真实" in verdict.inner_text() and "有效" in verdict.inner_text()
    assert "源城区张伟小吃店" in bank.content() and person.id_number not in bank.content()
    shots(bank, "scanned")

    # … or uploads the PDF the holder sent
    bank.goto(page.base_url + "/licences/verify/")
    bank.get_by_label("证照文件").set_input_files(str(pdf))
    bank.get_by_role("button", name="核验").click()
    bank.locator("#verdict").wait_for()
    assert "核验通过：证照真实" in bank.locator("#verdict").inner_text()
    assert "河源市源城区市场监督管理局" in bank.content()
    shots(bank, "verified")
    visitor.close()
