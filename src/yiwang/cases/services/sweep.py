"""The warning sweep (预警), set-based: the stored due dates and ``yellow_on`` let SQL find the cases
whose level changes today, over the (status, warning_level, due/yellow day) indexes, so that the number
of queries depends on the number of cases that change (per batch of ``BATCH``), never on the number
of open cases.

1. Submitted cases without a stored ``yellow_on`` (submission stores it; rows bulk-loaded or older get it here).
2. Paused cases (special procedure, correction after acceptance): the clock stands still and the due
   date moves each working day, so they are recomputed one by one from rows read in bulk (few cases).
3. Running clocks (submitted: acceptance; accepted / in review: decision): red when due < today, yellow
   when yellow_on <= today <= due, none otherwise; only rows whose stored level differs are read.

Each changed case gets its ``warning_changed`` event (``audit.record_many``); each responsible staff
member gets one digest message per sweep for the cases that rose to yellow or red.

Locking contract: every batch locks its rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and reads them
again under the lock; a case a staff member holds is left for the next sweep.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from yiwang.core import audit, calendar
from yiwang.core.notify import notify
from yiwang.identity.models import StaffRole

from .. import clock
from ..models import Case, CaseTask, ClockPause, Extension, Status, WarningLevel
from ..selectors import ACCEPT_ROLES
from ._base import SYSTEM

BATCH = 1000
RUNNING = [Status.ACCEPTED, Status.IN_REVIEW]
PAUSED = [Status.SUSPENDED, Status.CORRECTION_REQUESTED]
RANK = {WarningLevel.NONE: 0, WarningLevel.YELLOW: 1, WarningLevel.RED: 2}
CASE_SUBJECT = Case._meta.label_lower
# what the paused batch reads: the clock's inputs and the event's, not the item's definition or the
# form (kilobytes a row); a field the clock starts to read must be added here (the query-count test
# of tests/cases/test_sweep.py sees a deferred field loaded row by row)
PAUSED_FIELDS = (
    "number", "status", "warning_level", "region_code", "submitted_at", "received_on", "acceptance_due",
    "acceptance_due_provisional", "clock_start", "due_date", "due_provisional", "yellow_on",
    "version__acceptance_days", "version__promised_days", "department__name",
)  # fmt: skip
DIGEST_NUMBERS = 5  # case numbers named in a digest; the counts cover the rest


@dataclass
class Digest:
    """What one sweep tells each responsible staff member: the cases that rose, by level."""

    numbers: dict[int, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))

    def add(self, user_id: int, level: str, number: str) -> None:
        self.numbers[user_id][level].append(number)


def _chunks(ids: list[int]):
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _locked(ids: list[int]):
    """The rows of ``ids``, locked for this transaction; rows another transaction holds are skipped."""
    return Case.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk__in=ids)


def _level_on(today: dt.date, due: dt.date | None, yellow_on: dt.date | None) -> str:
    """``clock.warning_level`` of a running clock from its stored days."""
    if due is None:
        return WarningLevel.NONE
    if today > due:
        return WarningLevel.RED
    if yellow_on is not None and yellow_on <= today:
        return WarningLevel.YELLOW
    return WarningLevel.NONE


def refresh_warnings() -> dict[str, int]:
    """Bring the stored warning level of every open case up to today. Returns counts per new level."""
    today = clock.today()
    counts = {WarningLevel.YELLOW: 0, WarningLevel.RED: 0, WarningLevel.NONE: 0}
    digest = Digest()
    with calendar.pinned():  # the working-day arithmetic of the batches reads the calendar once
        _fill_acceptance_yellow_on()
        _sweep_paused(today, counts, digest)
        _sweep_running(today, [Status.SUBMITTED], "acceptance_due", counts, digest)
        _sweep_running(today, RUNNING, "due_date", counts, digest)
    _send_digest(digest)
    return counts


def _fill_acceptance_yellow_on() -> None:
    ids = list(
        Case.objects.filter(status=Status.SUBMITTED, warning_level=WarningLevel.NONE, yellow_on__isnull=True)
        .exclude(acceptance_due__isnull=True)
        .values_list("pk", flat=True)
    )
    for chunk in _chunks(ids):
        with transaction.atomic():
            cases = list(
                _locked(chunk).filter(status=Status.SUBMITTED, yellow_on__isnull=True).select_related("version")
            )
            for case in cases:
                case.yellow_on = clock.yellow_on(case)
            Case.objects.bulk_update(cases, ["yellow_on"])


def _sweep_running(today: dt.date, statuses: list[str], due: str, counts: dict, digest: Digest) -> None:
    """Cases of ``statuses`` whose level differs from what their due day (field ``due``) and yellow day
    give today; each condition is a range of one of the sweep indexes."""
    red, yellow, none = WarningLevel.RED, WarningLevel.YELLOW, WarningLevel.NONE
    stale = (
        Q(**{f"{due}__lt": today}, warning_level__in=[none, yellow])  # turns red
        | Q(**{f"{due}__gte": today}, warning_level=none, yellow_on__lte=today)  # turns yellow
        | Q(**{f"{due}__gte": today}, warning_level=red)  # a later due date: back to yellow or none
        | Q(**{f"{due}__gte": today}, warning_level=yellow, yellow_on__gt=today)
        | Q(**{f"{due}__gte": today}, warning_level=yellow, yellow_on__isnull=True)
        | Q(**{f"{due}__isnull": True}, warning_level__in=[yellow, red])
    )
    ids = list(Case.objects.filter(stale, status__in=statuses).values_list("pk", flat=True))
    for chunk in _chunks(ids):
        with transaction.atomic():
            rows = list(
                _locked(chunk)
                .filter(stale, status__in=statuses)
                .values("pk", "number", "status", "warning_level", due, "yellow_on", "region_code", "department__name")
            )
            changes = [(row, _level_on(today, row[due], row["yellow_on"])) for row in rows]
            _store_levels([(row, level, row[due]) for row, level in changes], counts, digest)


def _sweep_paused(today: dt.date, counts: dict, digest: Digest) -> None:
    """Paused clocks: the due date and yellow day move with the open pause; the level is computed as
    ``clock.warning_level`` does, from the case's pauses and extensions read for the whole batch."""
    ids = list(Case.objects.filter(status__in=PAUSED, clock_start__isnull=False).values_list("pk", flat=True))
    for chunk in _chunks(ids):
        with transaction.atomic():
            cases = list(
                _locked(chunk)
                .filter(status__in=PAUSED, clock_start__isnull=False)
                .select_related("version", "department")
                .only(*PAUSED_FIELDS)
            )
            pauses: dict[int, list[ClockPause]] = defaultdict(list)
            for pause in ClockPause.objects.filter(case_id__in=chunk).only("case_id", "started_at", "ended_at"):
                pauses[pause.case_id].append(pause)
            extension = dict(
                Extension.objects.filter(case_id__in=chunk, status=Extension.State.APPROVED)
                .values("case_id")
                .annotate(days=Sum("days"))
                .values_list("case_id", "days")
            )
            moved, changes = [], []
            for case in cases:
                known = {"pauses": pauses[case.pk], "extension": extension.get(case.pk, 0)}
                before = (case.due_date, case.due_provisional, case.yellow_on)
                due = clock.decision_due(case, today, **known)
                case.due_date, case.due_provisional = due.date, due.provisional
                case.yellow_on = clock.yellow_on(case, today, **known)
                if (case.due_date, case.due_provisional, case.yellow_on) != before:
                    moved.append(case)
                level = clock.warning_level(case, today, **known)
                if level != case.warning_level:
                    row = {
                        "pk": case.pk,
                        "number": case.number,
                        "status": case.status,
                        "warning_level": case.warning_level,
                        "region_code": case.region_code,
                        "department__name": case.department.name,
                    }
                    changes.append((row, level, case.due_date))
            Case.objects.bulk_update(moved, ["due_date", "due_provisional", "yellow_on"])
            _store_levels(changes, counts, digest)


def _store_levels(changes: list[tuple[dict, str, dt.date | None]], counts: dict, digest: Digest) -> None:
    """Store the new levels of one locked batch, append their events, note the rises for the digest."""
    by_level: dict[str, list[int]] = defaultdict(list)
    for row, level, _due in changes:
        by_level[level].append(row["pk"])
        counts[level] += 1
    for level, ids in by_level.items():
        Case.objects.filter(pk__in=ids).update(warning_level=level)
    audit.record_many(
        CASE_SUBJECT,
        "warning_changed",
        [
            (
                row["pk"],
                {
                    "before": row["status"],
                    "after": row["status"],
                    "level": level,
                    "level_before": row["warning_level"],
                    "due_date": str(due),
                    "department": row["department__name"],
                },
                row["region_code"],
            )
            for row, level, due in changes
        ],
        actor=None,
        role=SYSTEM,
    )
    risen = {r["pk"]: (level, r["number"]) for r, level, _d in changes if RANK[level] > RANK[r["warning_level"]]}
    for case_id, users in responsible_staff_of(list(risen)).items():
        level, number = risen[case_id]
        for user_id in users:
            digest.add(user_id, level, number)


def responsible_staff_of(case_ids: list[int]) -> dict[int, set[int]]:
    """``responsible_staff`` for many cases in three queries: {case id: user ids}. Holders of claimed
    tasks, else the staff who may claim the open tasks, else the staff who may accept (and the clerk)."""
    if not case_ids:
        return {}
    out: dict[int, set[int]] = defaultdict(set)
    tasks = CaseTask.objects.filter(case_id__in=case_ids, status__in=[CaseTask.State.CLAIMED, CaseTask.State.OPEN])
    open_pairs: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for case_id, status, assignee_id, department_id, role in tasks.values_list(
        "case_id", "status", "assignee_id", "department_id", "role"
    ):
        if status == CaseTask.State.CLAIMED and assignee_id:
            out[case_id].add(assignee_id)
        elif status == CaseTask.State.OPEN:
            open_pairs[case_id].add((department_id, role))
    cases = dict(Case.objects.filter(pk__in=case_ids).values_list("pk", "department_id"))
    clerks = dict(Case.objects.filter(pk__in=case_ids, clerk__isnull=False).values_list("pk", "clerk_id"))
    wanted = {c for c in case_ids if c not in out}
    departments = {d for c in wanted for d, _r in open_pairs.get(c, ())} | {cases[c] for c in wanted}
    roles = {r for c in wanted for _d, r in open_pairs.get(c, ())} | set(ACCEPT_ROLES)
    staff: dict[tuple[int, str], set[int]] = defaultdict(set)
    for department_id, role, user_id in StaffRole.objects.filter(
        department_id__in=departments, role__in=list(roles)
    ).values_list("department_id", "role", "user_id"):
        staff[(department_id, role)].add(user_id)
    for case_id in wanted:
        if open_pairs.get(case_id):
            for pair in open_pairs[case_id]:
                out[case_id] |= staff[pair]
        else:
            for role in ACCEPT_ROLES:
                out[case_id] |= staff[(cases[case_id], role)]
            if case_id in clerks:
                out[case_id].add(clerks[case_id])
    return dict(out)


def _send_digest(digest: Digest) -> None:
    """One message per staff member: how many of their cases turned yellow / red in this sweep."""
    if not digest.numbers:
        return
    from yiwang.identity.models import User

    users = User.objects.in_bulk(list(digest.numbers))
    for user_id, levels in digest.numbers.items():
        red, yellow = levels.get(WarningLevel.RED, []), levels.get(WarningLevel.YELLOW, [])
        subject = _("办件已超期") if red else _("办件即将到期")
        parts = []
        if red:
            parts.append(_("%(n)d件已超过办理期限（红色预警）") % {"n": len(red)})
        if yellow:
            parts.append(_("%(n)d件已用去八成以上办理时限（黄色预警）") % {"n": len(yellow)})
        named = (red + yellow)[:DIGEST_NUMBERS]
        more = len(red) + len(yellow) - len(named)
        body = _("您负责的办件中，%(parts)s：%(numbers)s%(more)s。请及时办理。") % {
            "parts": _("，").join(parts),
            "numbers": _("、").join(named),
            "more": _("等%(n)d件") % {"n": len(red) + len(yellow)} if more > 0 else "",
        }
        if user_id in users:
            notify(users[user_id], subject, body)
