import os

import pytest

# Background tasks run in-process during tests (huey's immediate mode, in-memory storage).
os.environ.setdefault("YIWANG_HUEY_IMMEDIATE", "1")


@pytest.fixture(autouse=True, scope="session")
def _huey_immediate():
    """Settings are imported before this file runs, so switch the huey instance itself to immediate mode."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True


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
