"""The seeded calendar survives transactional tests, whatever order they run in."""

import pytest

from yiwang.core.models import CalendarYear


@pytest.mark.django_db(transaction=True)
def test_first_transactional_test_sees_the_seeded_calendar():
    assert CalendarYear.objects.filter(year=2026).exists()
    CalendarYear.objects.filter(year=2026).delete()


@pytest.mark.django_db(transaction=True)
def test_next_transactional_test_still_sees_the_seeded_calendar():
    assert CalendarYear.objects.filter(year=2026).exists()


def test_live_server_tests_see_it_too(live_server):
    assert CalendarYear.objects.filter(year=2025).exists()
