"""The clock: working days across holidays and 调休, pauses, extensions, warnings, deemed acceptance,
and a year without an official schedule (provisional, recomputed when the schedule is published).

Dates below were counted by hand on the 2026 schedule: 9-25 中秋 (Fri), 10-1…10-7 国庆 (10-1, 10-2,
10-5, 10-6, 10-7 are weekday holidays), make-up workday Saturday 10-10.
"""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from yiwang.cases import clock, services
from yiwang.cases.models import Case, Status, WarningLevel
from yiwang.cases.tasks import sweep_deadlines
from yiwang.core import audit
from yiwang.core.calendar import ScheduleDay
from yiwang.core.models import Notification
from yiwang.core.services import publish_schedule

D = dt.date


def at(day: str, hour: int = 10) -> str:
    """A moment in Asia/Shanghai, as UTC for freezegun."""
    local = dt.datetime.fromisoformat(day) + dt.timedelta(hours=hour)
    return (local - dt.timedelta(hours=8)).isoformat()


@pytest.fixture
def frozen():
    with freeze_time(at("2026-09-24")) as freezer:
        yield freezer


def staff_notes(user, subject):
    return Notification.objects.filter(user=user, subject=subject).count()


def test_due_date_skips_holidays_and_counts_make_up_workdays(frozen, world, accepted):
    case = accepted()
    assert case.clock_start == D(2026, 9, 24)
    # 9-28 9-29 9-30 | 10-8 10-9 10-10(调休) | 10-12 10-13 10-14 10-15 → 10 working days
    assert case.due_date == D(2026, 10, 15)
    assert case.due_provisional is False
    # the first stage (承办, 40 %) has 4 working days
    assert case.tasks.get().due_date == D(2026, 10, 8)


def test_acceptance_due_and_deemed_acceptance(frozen, world, submit):
    case = submit()
    assert case.acceptance_due == D(2026, 10, 9)  # 5 working days
    frozen.move_to(at("2026-10-09", 17))
    sweep_deadlines.call_local()
    assert Case.objects.get(pk=case.pk).status == Status.SUBMITTED
    frozen.move_to(at("2026-10-10", 9))  # a Saturday, but a make-up workday
    result = sweep_deadlines.call_local()
    assert result["deemed_accepted"] == [case.number]
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.deemed_accepted
    assert case.clock_start == D(2026, 9, 24)  # accepted as of the day the materials arrived
    assert case.due_date == D(2026, 10, 15)
    event = audit.history(case).get(action="deemed_accepted")
    assert event.actor == "system" and "第三十二条" in event.data["basis"]
    assert "视为受理" in event.data["note"]


def test_special_procedure_time_is_not_counted(frozen, world, accepted):
    case = accepted()
    frozen.move_to(at("2026-09-28"))
    services.claim_task(world.handler, case)
    services.start_special_procedure(world.handler, case, kind="expert_review", reason="组织专家评审")
    frozen.move_to(at("2026-10-09"))
    case = services.end_special_procedure(world.handler, case, result="专家评审通过")
    # paused 9-29 9-30 10-8 10-9 = 4 working days → 10-15 + 4 = 10-21
    assert case.due_date == D(2026, 10, 21)
    assert clock.time_used(case)["paused"] == 4


def test_an_open_pause_moves_the_due_date_and_never_turns_red(frozen, world, accepted):
    case = accepted()
    services.claim_task(world.handler, case)
    services.start_special_procedure(world.handler, case, kind="testing", reason="送检")
    frozen.move_to(at("2026-10-30"))
    sweep_deadlines.call_local()
    case.refresh_from_db()
    assert case.status == Status.SUSPENDED
    assert case.warning_level == WarningLevel.NONE
    assert case.due_date > D(2026, 10, 30)


def test_extension_moves_the_due_date(frozen, world, accepted):
    case = accepted()
    extension = services.request_extension(world.handler, case, days=3, reason="情况复杂")
    services.approve_extension(world.approver, extension)
    case.refresh_from_db()
    assert case.due_date == D(2026, 10, 20)  # 10-16, 10-19, 10-20


def test_correction_after_acceptance_pauses_the_clock(frozen, world, accepted):
    case = accepted()
    services.claim_task(world.handler, case)
    frozen.move_to(at("2026-09-28"))
    services.request_correction(world.handler, case, items=[{"material": world.materials[1].pk, "problem": "模糊"}])
    frozen.move_to(at("2026-09-30"))
    case = services.resubmit_correction(world.citizen_user, case, files={world.materials[1].pk: _pdf()})
    assert case.due_date == D(2026, 10, 19)  # paused 9-29, 9-30


def _pdf():
    from .conftest import upload

    return upload()


def test_warnings_yellow_then_red_notify_staff_once_per_level(frozen, world, accepted):
    case = accepted()
    frozen.move_to(at("2026-10-12"))  # 7 of 10 days used
    sweep_deadlines.call_local()
    assert Case.objects.get(pk=case.pk).warning_level == WarningLevel.NONE
    frozen.move_to(at("2026-10-13"))  # 8 of 10: 80 %
    sweep_deadlines.call_local()
    sweep_deadlines.call_local()
    case.refresh_from_db()
    assert case.warning_level == WarningLevel.YELLOW
    # nobody claimed the 承办 task: the department's handlers answer for it
    assert staff_notes(world.handler, "办件即将到期") == 1
    assert staff_notes(world.approver, "办件即将到期") == 0
    services.claim_task(world.handler, case)
    frozen.move_to(at("2026-10-16"))
    sweep_deadlines.call_local()
    sweep_deadlines.call_local()
    case.refresh_from_db()
    assert case.warning_level == WarningLevel.RED
    assert staff_notes(world.handler, "办件已超期") == 1
    assert [e.data["level"] for e in audit.history(case).filter(action="warning_changed")] == ["yellow", "red"]
    # an approved extension brings it back below the limit
    extension = services.request_extension(world.handler, case, days=5, reason="需补充调查")
    services.approve_extension(world.approver, extension)
    # at once, recorded like the sweep's changes: the stored level never stays red past a later due date
    assert Case.objects.get(pk=case.pk).warning_level == WarningLevel.NONE
    assert [e.data["level"] for e in audit.history(case).filter(action="warning_changed")] == ["yellow", "red", "none"]
    sweep_deadlines.call_local()
    assert Case.objects.get(pk=case.pk).warning_level == WarningLevel.NONE


def test_a_year_without_schedule_is_provisional_until_published(world, accepted, django_capture_on_commit_callbacks):
    with freeze_time(at("2026-12-21")):
        from catalog.factories import published_version

        version = published_version(
            department=world.market, service_object="both", materials=[{"name": "申请书", "formats": "pdf"}]
        )
        case = services.submit_case(
            world.citizen_user, item=version.item, form_data=world.form, files={version.materials.get().pk: _pdf()}
        )
        case = services.accept_case(world.handler, case)
        # 12-22 … 12-31 are 8 working days; 2027 has no official schedule yet, but 1-1 (Fri) is 元旦 by law
        assert case.due_date == D(2027, 1, 5)
        assert case.due_provisional is True
        with django_capture_on_commit_callbacks(execute=True):
            publish_schedule(
                2027,
                # the schedule gives a bridge day the law does not know of
                [ScheduleDay(D(2027, 1, 1), False, "元旦"), ScheduleDay(D(2027, 1, 4), False, "元旦")],
                "国务院办公厅关于2027年部分节假日安排的通知",
            )
        case.refresh_from_db()
        assert case.due_date == D(2027, 1, 6)
        assert case.due_provisional is False
        event = audit.history(case).get(action="due_recomputed")
        assert event.data["due_before"] == "2027-01-05" and event.data["due_after"] == "2027-01-06"


def test_acceptance_due_in_an_unpublished_year_is_provisional(world, submit):
    with freeze_time(at("2026-12-29")):
        case = submit()
    assert case.acceptance_due == D(2027, 1, 6)  # 12-30, 12-31, 1-4, 1-5, 1-6 (1-1 is 元旦 by law)
    assert case.acceptance_due_provisional is True


def test_the_sweep_writes_nothing_when_nothing_changed(frozen, world, accepted):
    case = accepted()
    stamp = Case.objects.get(pk=case.pk).updated_at
    frozen.move_to(at("2026-09-28"))
    sweep_deadlines.call_local()
    assert Case.objects.get(pk=case.pk).updated_at == stamp
    assert not audit.history(case).filter(action="warning_changed").exists()
