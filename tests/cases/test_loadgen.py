"""`yiwang generate-load-data --cases N`: tiny sizes here (SQLite, and PostgreSQL by DATABASE_URL, where
the rows go through COPY). The rows must look like the platform's own: numbers in its format that real
submissions continue, levels the clock agrees with once the sweep ran, open pauses for paused cases."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from yiwang.cases import clock, services
from yiwang.cases.models import OPEN_STATES, Case, ClockPause, Status

from .test_clock import at


@pytest.fixture
def frozen():
    from freezegun import freeze_time

    with freeze_time(at("2026-10-14")) as freezer:
        yield freezer


def test_generate_load_data_writes_cases_the_platform_reads(frozen, world, submit):
    out = io.StringIO()
    call_command("generate_load_data", cases=300, seed=3, open_share=0.5, stdout=out)
    assert "已生成办件 300 条" in out.getvalue()
    cases = list(Case.objects.select_related("version", "item"))
    assert len(cases) == 300
    numbers = [c.number for c in cases]
    assert len(set(numbers)) == 300
    assert all(re.fullmatch(re.escape(c.item.code) + r"\d{8}\d{4,}", c.number) for c in cases)
    open_cases = [c for c in cases if c.status in OPEN_STATES]
    assert 100 < len(open_cases) < 200
    assert {c.status for c in open_cases} >= {Status.SUBMITTED, Status.IN_REVIEW}
    paused = [c for c in open_cases if c.status in (Status.SUSPENDED, Status.CORRECTION_REQUESTED)]
    assert ClockPause.objects.filter(case__in=paused, ended_at__isnull=True).count() == len(paused)
    # the due dates are the calendar's, so the clock reproduces them from the stored rows
    for case in open_cases:
        if case.clock_start:
            assert clock.decision_due(case).date == case.due_date, case.number
    # levels are those of the previous working day's sweep; today's sweep brings them to the clock's
    services.deem_overdue_acceptances()
    services.refresh_warnings()
    for case in Case.objects.filter(status__in=OPEN_STATES).select_related("version"):
        assert case.warning_level == clock.warning_level(case), case.number
    # a real submission afterwards continues the day's sequence
    fresh = submit()
    assert fresh.number not in numbers


def test_generate_load_data_needs_the_demo(db):
    with pytest.raises(CommandError, match="load-demo"):
        call_command("generate_load_data", cases=10)
