import os

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests check correctness, not speed: on a loaded 2-core CI machine hypothesis' default
# 200 ms deadline per example fails tests that are right.
hypothesis_settings.register_profile("yiwang", deadline=None)
hypothesis_settings.load_profile("yiwang")

# Background tasks run in-process during tests (huey's immediate mode, in-memory storage).
os.environ.setdefault("YIWANG_HUEY_IMMEDIATE", "1")


@pytest.fixture(autouse=True, scope="session")
def _huey_immediate():
    """Settings are imported before this file runs, so switch the huey instance itself to immediate mode."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters and cached values never carry over from one test to the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes uploads and generated files to its own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    from yiwang.core import calendar

    calendar.invalidate()
    yield
    calendar.invalidate()


@pytest.fixture(autouse=True)
def _calendar_after_flush(request):
    """Transactional tests (live server, browser) end by emptying every table, the working-day calendar
    seeded by the migrations included. Seed it again for the next one, so that due dates never turn
    "provisional" depending on the order in which tests run."""
    mark = request.node.get_closest_marker("django_db")
    transactional = (mark and mark.kwargs.get("transaction")) or {"live_server", "transactional_db"} & set(
        request.fixturenames
    )
    if transactional:
        from yiwang.core.calendar import seed_from_package
        from yiwang.core.models import CalendarYear

        if not CalendarYear.objects.exists():
            seed_from_package()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language (zh-hans): a request in English earlier on the same
    thread leaves English active, and services called directly would then answer in English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
