"""Journeys of a citizen: register, log out, log in with the ID number; mistakes shown on their fields."""

import datetime as dt

import pytest

from yiwang.core.ids import make_citizen_id

ID_NUMBER = make_citizen_id("441602", dt.date(1992, 8, 8), 518)
PASSWORD = "Heyuan-2026-portal"


@pytest.mark.django_db(transaction=True)
def test_register_then_log_in_with_id_number(page, shots):
    page.goto(page.base_url + "/")
    page.get_by_role("link", name="登录").click()
    page.get_by_role("link", name="注册个人账号").click()

    # first attempt with mistakes: each is named next to its field and in the summary
    page.get_by_label("姓名").fill("陈小明")
    page.get_by_label("公民身份号码").fill(ID_NUMBER[:-1])
    page.get_by_label("手机号码").fill("1380013")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)
    page.get_by_role("button", name="注册").click()
    summary = page.get_by_role("alert")
    assert "公民身份号码应为18位，当前为17位。" in summary.inner_text()
    assert "手机号码应为以1开头的11位数字。" in summary.inner_text()
    shots(page, "register-errors")

    page.get_by_label("公民身份号码").fill(" ".join([ID_NUMBER[:6], ID_NUMBER[6:14], ID_NUMBER[14:].lower()]))
    page.get_by_label("手机号码").fill("138 0013 8000")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)
    page.get_by_role("button", name="注册").click()
    page.get_by_text("注册成功，欢迎使用一网通办。").wait_for()
    assert "陈小明" in page.locator("header").inner_text()
    shots(page, "registered")

    page.get_by_role("button", name="退出").click()
    page.get_by_role("link", name="登录").click()
    page.get_by_label("手机号码 / 身份证号 / 工作人员账号").fill(ID_NUMBER)
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("账号或密码不正确，请重新输入。").wait_for()

    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.locator("header").get_by_text("陈小明").wait_for()
    shots(page, "logged-in")


@pytest.mark.django_db(transaction=True)
def test_switch_language_in_the_header(page, shots):
    page.goto(page.base_url + "/login/")
    header = page.locator("header")
    assert "政务服务平台" in header.inner_text()
    page.get_by_role("button", name="English").click()
    header.get_by_role("link", name="Home").wait_for()
    assert "Government services" in header.inner_text()
    assert "Log in" in header.inner_text()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("heading", name="Log in").wait_for()
    shots(page, "english")
    page.get_by_role("button", name="中文").click()
    header.get_by_role("link", name="首页").wait_for()
