"""Walk a running production site in Chromium as every demo role, and fail on anything a person would see.

    .venv/bin/python .ci/prod_walk.py http://127.0.0.1:PORT

For each role (and an anonymous visitor) it logs in, checks the landing page, and follows the links
of every page it reaches — the navigation, and the first link of each kind in each list (links are
told apart by their shape, with numbers and identifiers blanked, so that a list of 300 licences
costs one visit) — up to a bound per role. It fails on:

- a followed link answering 4xx or 5xx, a download (PDF, licence file) that is not what it says;
- any console error, any failed request or any static file answering 4xx/5xx;
- any request to a host other than the server (aborted before it leaves the machine);
- a page wider than 390 px on a 390 px wide screen (`scrollWidth`), naming the pages;
- htmx not loaded on a portal page, or QR codes pointing elsewhere than the server.

Screenshots of every page (1280 and 390 px wide) go to $YIWANG_ARTIFACTS/screenshots/prod/.
Exit status 0 only when nothing failed; the summary names every failure.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium")
ARGS = [  # DESIGN.md
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = os.environ.get("YIWANG_DEMO_PASSWORD", "Yiwang@2026")
PHONE_WIDTH = 390
MAX_PAGES = int(os.environ.get("YIWANG_WALK_MAX_PAGES", "45"))  # per role
MAX_ADMIN_PAGES = 25  # the admin's changelists, the same Django pages over and over

# (label, user name or None for anonymous, the path the role lands on after logging in)
ROLES = [
    ("anonymous", None, "/"),
    ("citizen", "13800000002", "/"),  # 李娜
    ("agent", "13800000001", "/"),  # 张伟, 经办人 of 河源市万绿湖餐饮管理有限公司
    ("window_clerk", "window", "/window/"),
    ("handler", "rs_handler", "/workbench/"),
    ("reviewer", "rs_reviewer", "/workbench/"),
    ("approver", "rs_approver", "/workbench/"),
    ("supervisor", "supervisor", "/workbench/"),
    ("catalog_manager", "catalog", "/admin/"),
    ("admin", "admin", "/admin/"),
]
# pages every role must reach (when it may), whether or not a link leads there
START = ["/", "/search/", "/progress/", "/licences/verify/"]
# never followed: they change state, switch the language, or leave the pages for people
SKIP = re.compile(
    r"^/(i18n/|logout/|api/(?!docs/$))|/(add|delete|history|password)/|/admin/(r|logout|jsi18n|password_change)/"
)
DOWNLOAD = re.compile(r"(\.pdf$|/pdf/$|/file/$|/export/$|/documents/\d+/$|/materials/\d+/((blank_form|sample)/)?$)")


def shape(path: str, query: str) -> str:
    """What kind of link this is: numbers, codes and identifiers blanked; query values dropped."""
    blank = re.sub(r"[^/]*\d[^/]*", "*", path)
    keys = sorted({part.split("=", 1)[0] for part in query.split("&") if part})
    return blank + ("?" + "&".join(keys) if keys else "")


@dataclass
class Walk:
    base: str
    shots: Path
    failures: list[str] = field(default_factory=list)
    overflow: list[str] = field(default_factory=list)
    pages: int = 0
    downloads: int = 0

    def fail(self, role: str, message: str) -> None:
        self.failures.append(f"[{role}] {message}")
        print(f"  !! {message}", flush=True)


def same_site(base: str, url: str) -> bool:
    return urlsplit(url).netloc == urlsplit(base).netloc


def walk_role(browser, walk: Walk, role: str, username: str | None, landing: str) -> None:
    print(f"== {role} ({username or 'not logged in'}) ==", flush=True)
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
    context.set_default_timeout(20000)
    where = {"url": ""}
    page_errors: list[str] = []

    def route(route_, request):
        if same_site(walk.base, request.url) or request.url.startswith(("data:", "blob:")):
            route_.continue_()
        else:  # never leaves the machine: government intranets have no internet either
            page_errors.append(f"request to another host: {request.url} (from {where['url']})")
            route_.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on(
        "console",
        lambda m: m.type == "error" and page_errors.append(f"console error on {where['url']}: {m.text}"),
    )
    page.on("pageerror", lambda exc: page_errors.append(f"script error on {where['url']}: {exc}"))
    page.on(
        "requestfailed",
        lambda r: (
            same_site(walk.base, r.url) and page_errors.append(f"failed request {r.url} on {where['url']}: {r.failure}")
        ),
    )
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and r.request.resource_type != "document"
            and page_errors.append(f"{r.status} for {r.url} on {where['url']}")
        ),
    )

    if username:
        page.goto(walk.base + "/login/")
        page.get_by_label("手机号码 / 身份证号 / 工作人员账号").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        got = urlsplit(page.url).path
        if got != landing:
            walk.fail(role, f"landed on {got} after logging in, expected {landing}")

    seen_shapes: set[str] = set()
    queue: deque[str] = deque([landing, *START])
    visited = admin_pages = 0
    while queue and visited < MAX_PAGES:
        url = urljoin(walk.base + "/", queue.popleft())
        url = urldefrag(url).url
        parts = urlsplit(url)
        kind = shape(parts.path, parts.query)
        if kind in seen_shapes:
            continue
        seen_shapes.add(kind)
        if parts.path.startswith("/admin/"):
            if admin_pages >= MAX_ADMIN_PAGES:
                continue
            admin_pages += 1
        visited += 1
        where["url"] = parts.path + (f"?{parts.query}" if parts.query else "")
        if DOWNLOAD.search(parts.path):
            check_download(context, walk, role, url)
            continue
        links = visit(page, walk, role, url, page_errors)
        for link in links:
            path = urlsplit(link).path
            if same_site(walk.base, link) and not SKIP.search(path):
                queue.append(link)
    flush_errors(walk, role, page_errors)
    print(f"   {visited} pages and downloads", flush=True)
    context.close()


def flush_errors(walk: Walk, role: str, errors: list[str]) -> None:
    for message in dict.fromkeys(errors):  # once each, in order
        walk.fail(role, message)
    errors.clear()


def check_download(context, walk: Walk, role: str, url: str) -> None:
    response = context.request.get(url)
    walk.downloads += 1
    path = urlsplit(url).path
    kind = response.headers.get("content-type", "")
    print(f"   {response.status} {path} ({kind})", flush=True)
    if response.status >= 400:
        walk.fail(role, f"{response.status} for the download {path}")
    elif "pdf" in kind and not response.body().startswith(b"%PDF"):
        walk.fail(role, f"{path} says PDF but is not one")


def visit(page, walk: Walk, role: str, url: str, errors: list[str]) -> list[str]:
    path = urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")
    try:
        response = page.goto(url, wait_until="load")
    except PlaywrightError as exc:
        if "Download is starting" in str(exc):
            check_download(page.context, walk, role, url)
            return []
        walk.fail(role, f"{path}: {exc}")
        return []
    walk.pages += 1
    status = response.status if response else 0
    print(f"   {status} {path}", flush=True)
    if status >= 400:
        walk.fail(role, f"{status} for {path}")
    portal = not path.startswith(("/admin/", "/api/"))
    if portal and page.evaluate("typeof window.htmx") != "object":
        walk.fail(role, f"htmx is not loaded on {path}")
    for qr_url in page.locator("[data-qr-url]").evaluate_all("els => els.map(e => e.dataset.qrUrl)"):
        if not qr_url.startswith(walk.base + "/"):
            walk.fail(role, f"the QR code on {path} points to {qr_url}, not to {walk.base}")
    name = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")[:80] or "home"
    page.screenshot(path=str(walk.shots / f"{role}-{name}.png"), full_page=True)
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE_WIDTH:
        walk.overflow.append(f"[{role}] {path}: {width} px")
        walk.fail(role, f"{path} is {width} px wide on a {PHONE_WIDTH} px screen")
    page.screenshot(path=str(walk.shots / f"{role}-{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    links = page.locator("a[href]").evaluate_all("els => els.map(a => a.href)")
    flush_errors(walk, role, errors)
    return links


def probes(browser, walk: Walk) -> None:
    """What no link leads to: the error pages of production."""
    print("== error pages ==", flush=True)
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    response = page.goto(walk.base + "/no-such-page/")
    if response.status != 404 or "页面不存在" not in page.content():
        walk.fail("probe", f"/no-such-page/ answered {response.status} without the Chinese 404 page")
    page.screenshot(path=str(walk.shots / "probe-404.png"), full_page=True)
    page.goto(walk.base + "/login/")
    page.get_by_label("手机号码 / 身份证号 / 工作人员账号").fill(ROLES[1][1])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    response = page.goto(walk.base + "/my/cases/NO-SUCH-CASE/")
    if response.status != 404 or "未找到该办件" not in page.content():
        walk.fail("probe", f"an unknown case number answered {response.status} without the Chinese 404 page")
    api = context.request.post(walk.base + "/api/no-such-thing/", data="{}")
    if api.status != 404 or api.json().get("code") != "not_found":
        walk.fail("probe", f"POST /api/no-such-thing/ answered {api.status} {api.text()[:100]}")
    context.close()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    base = sys.argv[1].rstrip("/")
    shots = Path(os.environ.get("YIWANG_ARTIFACTS", "artifacts")) / "screenshots" / "prod"
    shots.mkdir(parents=True, exist_ok=True)
    walk = Walk(base=base, shots=shots)
    started = time.monotonic()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for role, username, landing in ROLES:
                walk_role(browser, walk, role, username, landing)
            probes(browser, walk)
        finally:
            browser.close()
    seconds = time.monotonic() - started
    print(f"== walked {walk.pages} pages and {walk.downloads} downloads as {len(ROLES)} roles in {seconds:.0f} s ==")
    if walk.overflow:
        print(f"pages wider than {PHONE_WIDTH} px:\n  " + "\n  ".join(walk.overflow))
    if walk.failures:
        print(f"{len(walk.failures)} problems:\n  " + "\n  ".join(walk.failures))
        return 1
    print("no problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
