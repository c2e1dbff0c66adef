"""The set-based deadline sweep: the levels it stores are those ``clock.warning_level`` gives, each
change has its event in the case's chain, staff get one digest per sweep, and the number of queries
does not grow with the number of open cases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from yiwang.cases import clock, services
from yiwang.cases.models import OPEN_STATES, Case, Status, WarningLevel
from yiwang.cases.tasks import sweep_deadlines
from yiwang.core import audit
from yiwang.core.models import AuditEvent, Notification
from yiwang.core.verify import verify_audit

from .test_clock import at


@pytest.fixture
def frozen():
    with freeze_time(at("2026-09-24")) as freezer:
        yield freezer


def _levels_agree() -> int:
    """Every open case's stored level is the reference level; returns how many were checked."""
    cases = list(Case.objects.filter(status__in=OPEN_STATES).select_related("version"))
    for case in cases:
        assert case.warning_level == clock.warning_level(case), case.number
    return len(cases)


def _last_level_event(case: Case) -> str | None:
    event = audit.history(case).filter(action="warning_changed").last()
    return event.data["level"] if event else None


def test_the_sweep_agrees_with_the_clock_day_by_day(frozen, world, submit, accepted):
    running = accepted()
    waiting = submit()
    paused = accepted()
    services.claim_task(world.handler, paused)
    services.start_special_procedure(world.handler, paused, kind="testing", reason="送检")
    corrected = accepted()
    services.claim_task(world.handler, corrected)
    services.request_correction(
        world.handler, corrected, items=[{"material": world.materials[1].pk, "problem": "模糊"}]
    )
    frozen.move_to(at("2026-09-28"))
    later = accepted()
    for day in ["2026-09-29", "2026-09-30", "2026-10-08", "2026-10-13", "2026-10-14", "2026-10-16", "2026-10-21"]:
        frozen.move_to(at(day))
        sweep_deadlines.call_local()
        assert _levels_agree() >= 4
        for case in Case.objects.filter(pk__in=[running.pk, later.pk, paused.pk]):
            # the event chain tells the same story as the stored level
            assert (_last_level_event(case) or WarningLevel.NONE) == case.warning_level
    assert Case.objects.get(pk=running.pk).warning_level == WarningLevel.RED
    assert Case.objects.get(pk=waiting.pk).status == Status.ACCEPTED  # deemed accepted on the way
    paused = Case.objects.get(pk=paused.pk)
    assert paused.status == Status.SUSPENDED and paused.warning_level == WarningLevel.NONE
    assert paused.due_date > clock.today()  # the open pause keeps moving it
    assert [e.data["level_before"] for e in audit.history(running).filter(action="warning_changed")] == [
        WarningLevel.NONE,
        WarningLevel.YELLOW,
    ]
    assert verify_audit().ok


def test_a_later_due_date_lowers_the_level_in_the_sweep(frozen, world, accepted):
    case = accepted()
    frozen.move_to(at("2026-10-16"))
    sweep_deadlines.call_local()
    assert Case.objects.get(pk=case.pk).warning_level == WarningLevel.RED
    # a due date moved by something other than a staff action (e.g. the calendar): the sweep follows
    Case.objects.filter(pk=case.pk).update(due_date="2026-10-30", yellow_on="2026-10-26")
    sweep_deadlines.call_local()
    assert Case.objects.get(pk=case.pk).warning_level == WarningLevel.NONE
    assert [e.data["level"] for e in audit.history(case).filter(action="warning_changed")] == ["red", "none"]


def test_staff_get_one_digest_per_sweep(frozen, world, accepted):
    cases = [accepted() for _ in range(3)]
    frozen.move_to(at("2026-10-13"))  # 80 % used by all three
    sweep_deadlines.call_local()
    sweep_deadlines.call_local()
    notes = list(Notification.objects.filter(user=world.handler, subject="办件即将到期"))
    assert len(notes) == 1
    assert "3件" in notes[0].body
    assert all(c.number in notes[0].body for c in cases)
    assert not Notification.objects.filter(user=world.approver, subject="办件即将到期").exists()


def _sweep_queries(frozen, world, accepted, n: int) -> tuple[int, int, int]:
    """Queries of one sweep over ``n`` running and ``n // 5`` paused cases; the levels changed, the
    paused cases' due dates moved."""
    Case.objects.all().delete()
    frozen.move_to(at("2026-09-24"))
    for _ in range(n):
        accepted()
    for _ in range(n // 5):
        paused = accepted()
        services.claim_task(world.handler, paused)
        services.start_special_procedure(world.handler, paused, kind="testing", reason="送检")
    dues = dict(Case.objects.filter(status=Status.SUSPENDED).values_list("pk", "due_date"))
    frozen.move_to(at("2026-10-13"))
    with CaptureQueriesContext(connection) as queries:
        counts = services.refresh_warnings()
    moved = Case.objects.filter(status=Status.SUSPENDED).values_list("pk", "due_date")
    return len(queries), counts[WarningLevel.YELLOW], sum(due > dues[pk] for pk, due in moved)


def test_the_number_of_queries_does_not_grow_with_the_cases(frozen, world, accepted):
    few, few_changed, few_moved = _sweep_queries(frozen, world, accepted, 5)
    many, many_changed, many_moved = _sweep_queries(frozen, world, accepted, 40)
    assert (few_changed, many_changed) == (5, 40)
    assert (few_moved, many_moved) == (1, 8)  # the paused clocks' due dates move on
    assert many == few


def test_record_many_continues_each_chain(frozen, world, accepted):
    first, second = accepted(), accepted()
    seqs = {c.pk: audit.history(c).last().seq for c in (first, second)}
    events = audit.record_many(
        "cases.case", "warning_changed", [(first.pk, {"level": "yellow"}, "441600"), (second.pk, {}, "")]
    )
    assert [e.seq for e in events] == [seqs[first.pk] + 1, seqs[second.pk] + 1]
    assert (
        events[0].prev_hash
        == AuditEvent.objects.get(subject_type="cases.case", subject_id=str(first.pk), seq=seqs[first.pk]).hash
    )
    assert audit.history(first).last().data == {"level": "yellow"}
    assert verify_audit().ok
    with pytest.raises(ValueError):
        audit.record_many("cases.case", "x", [(first.pk, {}, ""), (first.pk, {}, "")])
