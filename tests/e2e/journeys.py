"""What the browser journeys share: logging in as a demo account (every demo account has one password)."""

from __future__ import annotations

from yiwang.demo.files import demo_data

PASSWORD = demo_data().password


def log_in(page, username: str) -> None:
    page.goto(page.base_url + "/login/")
    page.get_by_label("手机号码 / 身份证号 / 工作人员账号").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="退出").wait_for()
