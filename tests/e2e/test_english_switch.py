"""The English switch in a browser: the header's button turns the search, the service guide, the
progress query and 我的办件 into English (the demo data themselves stay Chinese)."""

from __future__ import annotations

import re

from yiwang.demo.files import demo_data

CITIZEN = demo_data().citizens[0]
PASSWORD = demo_data().password


def test_english_pages(page, shots, demo_catalog):
    page.goto(page.base_url + "/")
    page.get_by_role("button", name="English").click()
    page.get_by_role("link", name="Home").first.wait_for()
    assert page.locator("html").get_attribute("lang") == "en"

    page.get_by_role("search").get_by_role("searchbox").first.fill("食品经营许可")
    page.get_by_role("search").get_by_role("button").first.click()
    page.get_by_role("heading", level=1, name="Services").wait_for()
    shots(page, "search")

    page.locator("main a[href^='/items/']").first.click()
    page.get_by_role("heading", name=re.compile("Materials")).first.wait_for()
    assert "Service guide" in page.title()
    shots(page, "guide")

    page.goto(page.base_url + "/progress/")
    page.get_by_role("heading", level=1, name="Track an application").wait_for()
    page.get_by_label("Case number").fill("NO-SUCH-CASE")
    page.get_by_label("Last four characters of the applicant's ID number").fill("1231")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_text("No case found").wait_for()
    shots(page, "progress")

    page.goto(page.base_url + "/login/")
    page.get_by_label("Mobile number / ID number / staff user name").fill(CITIZEN.phone)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()
    page.goto(page.base_url + "/my/cases/")
    page.get_by_role("heading", level=1, name="My cases").wait_for()
    page.get_by_text("You have not submitted any case yet.").wait_for()
    shots(page, "my-cases")
