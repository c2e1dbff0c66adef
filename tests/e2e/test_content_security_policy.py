"""The Content-Security-Policy allows no inline script or style: the main pages of the portal, the
admin and the API documentation load and work in Chromium without the browser refusing anything."""

from __future__ import annotations

import pytest
from journeys import PASSWORD, log_in
from playwright.sync_api import expect

from yiwang.cases.models import Case
from yiwang.licences.models import Licence

# Chromium reports a refusal in the console ("Refused to apply inline style because it violates the
# following Content Security Policy directive …"); the page's own securitypolicyviolation event says
# the same, in case a console message were ever worded differently.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " " + (e.blockedURI || "inline") + " at " + e.sourceFile);
});
"""


def refusals(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m or "CSP violation" in m]


@pytest.mark.django_db(transaction=True)
def test_main_pages_report_no_csp_violation(page, demo):
    messages: list[str] = []
    page.context.add_init_script(REPORT_VIOLATIONS)
    page.on("console", lambda m: messages.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"{page.url}: {e}"))
    base = page.base_url
    item = Case.objects.select_related("item").first().item

    for path in ["/", "/search/?q=食品", f"/items/{item.code}/", "/progress/", "/licences/verify/", "/register/"]:
        page.goto(base + path)
        expect(page.locator("main")).to_be_visible()

    log_in(page, "13800000001")
    licence = Licence.objects.filter(holder_person__user__username="13800000001").first()
    for path in ["/my/cases/", "/licences/", f"/licences/{licence.identifier}/", f"/items/{item.code}/apply/"]:
        page.goto(base + path)
        expect(page.locator("main")).to_be_visible()
    page.get_by_role("button", name="退出").click()

    # the admin: its login, index, a list with filters and a change form with its widgets
    page.goto(base + "/admin/login/")
    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(base + "/admin/catalog/serviceitem/")
    expect(page.locator("#result_list")).to_be_visible()
    page.goto(base + "/admin/identity/user/add/")
    expect(page.locator("#user_form")).to_be_visible()

    # the API documentation: Swagger UI renders the operations from the schema
    page.goto(base + "/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()

    assert refusals(messages) == []
