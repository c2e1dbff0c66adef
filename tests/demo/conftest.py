"""The demo, loaded once per test module by `yiwang load-demo` itself and committed (decisions issue their
licences on commit, as in production). Each test then runs in a transaction that is rolled back, so
what one test does is not seen by the next; the module's last test leaves an empty database."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker) -> str:
    from yiwang.core.calendar import invalidate, seed_from_package
    from yiwang.core.models import CalendarYear

    with django_db_blocker.unblock():
        if not CalendarYear.objects.exists():  # emptied by a transactional test that ran before
            seed_from_package()
        invalidate()
        out = io.StringIO()
        call_command("load_demo", stdout=out)
        yield out.getvalue()
        call_command("flush", interactive=False, verbosity=0)
        seed_from_package()
        invalidate()


@pytest.fixture
def loaded_demo(demo_output, db) -> str:
    """The loaded demo (what `yiwang load-demo` printed), inside this test's rolled-back transaction."""
    return demo_output
