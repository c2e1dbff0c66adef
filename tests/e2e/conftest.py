"""Browser journeys: Playwright driving Debian's Chromium against a live server.

Without /usr/bin/chromium the journeys are skipped — unless YIWANG_REQUIRE_BROWSER=1 (set by CI),
in which case they fail, so that CI can never pass without them having run.
"""

import io
import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the test itself still talks to the
# database synchronously, which is safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("YIWANG_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM}, and YIWANG_REQUIRE_BROWSER=1")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


# How long a step may wait for its condition. expect() has its own default (5 s), shorter than the
# context's: set both, so that an assertion waits as long as an action on a loaded machine.
TIMEOUT_MS = 15_000


@pytest.fixture
def page(browser, live_server):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    p = context.new_page()
    p.base_url = live_server.url
    yield p
    context.close()


@pytest.fixture
def shots(request):
    """Save a screenshot under artifacts/screenshots/<test name>-<label>.png."""
    root = Path(os.environ.get("YIWANG_ARTIFACTS", "artifacts")) / "screenshots"
    root.mkdir(parents=True, exist_ok=True)

    def take(page, label: str) -> Path:
        path = root / f"{request.node.name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def demo_catalog(transactional_db):
    """The demo's people and catalog (no cases), with the packaged holiday calendar."""
    from yiwang.core.calendar import seed_from_package
    from yiwang.demo import loader

    seed_from_package(range(2024, 2027))
    loader.load_people_and_catalog(io.StringIO())


@pytest.fixture
def demo(transactional_db):
    """The whole demo, as `yiwang load-demo` writes it (cases included)."""
    from django.core.management import call_command

    from yiwang.core.calendar import invalidate, seed_from_package

    seed_from_package(range(2024, 2027))
    invalidate()
    call_command("load_demo", stdout=io.StringIO())
