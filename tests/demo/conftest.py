"""The demo, loaded once per test module by `yiwang load-demo` itself and committed (decisions issue their
licences on commit, as in production). Each test then runs in a transaction that is rolled back, so
what one test does is not seen by the next; the module's last test leaves an empty database."""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps
from django.core.management import call_command


def _seed_migration_data() -> None:
    """What the migrations seed and a flush empties: the calendar and the search synonyms. Without it the
    demo loaded after another module's flush would lack them, depending on the order tests run in."""
    from yiwang.catalog.models import Synonym
    from yiwang.core.calendar import seed_from_package
    from yiwang.core.models import CalendarYear

    if not CalendarYear.objects.exists():
        seed_from_package()
    if not Synonym.objects.exists():
        importlib.import_module("yiwang.catalog.migrations.0005_search_data").seed_synonyms(apps, None)


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker) -> str:
    from yiwang.core.calendar import invalidate

    with django_db_blocker.unblock():
        _seed_migration_data()  # emptied by a transactional test or a demo module that ran before
        invalidate()
        out = io.StringIO()
        call_command("load_demo", stdout=out)
        yield out.getvalue()
        call_command("flush", interactive=False, verbosity=0)
        _seed_migration_data()
        invalidate()


@pytest.fixture
def loaded_demo(demo_output, db) -> str:
    """The loaded demo (what `yiwang load-demo` printed), inside this test's rolled-back transaction."""
    return demo_output
