"""Load data for province-scale measurements (``yiwang generate-load-data --cases N``): millions of
cases over the items, departments and regions the demo loaded, written in bulk (COPY on PostgreSQL,
batched inserts on SQLite), never through the services (one case through them takes ~20 queries).

What a generated case is like (seeded, so a run is repeatable):
- about 10 % open (``OPEN_SHARE``): submitted in the last working days (a few past their acceptance
  limit), accepted or in review with a due date from the working-day calendar, some suspended (a
  special procedure) or waiting for a correction, with their open ``ClockPause``; ``yellow_on`` and the
  warning level are stored as the sweep of the previous working day left them;
- the others closed over the last three years: completed, delivered, refused or withdrawn;
- numbers in the platform's format (实施编码 + yyyyMMdd + daily sequence), taken from and written back
  to ``CaseNumberSequence`` so that real submissions afterwards never collide;
- applicants: the demo's people and organisations and a pool of generated ones (about 50 cases each).
Materials, tasks and audit events are not generated: a case without them is what the queries and the
sweep read (the sweep then falls back to the department's accepting staff for its digest).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Callable
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.catalog.models import ItemVersion
from yiwang.core import calendar
from yiwang.core.calendar import add_working_days, working_days_between
from yiwang.core.errors import Conflict
from yiwang.core.ids import make_citizen_id, make_uscc
from yiwang.core.sm import blind_index
from yiwang.identity.models import LegalPerson, NaturalPerson

from . import clock
from .models import Case, CaseNumberSequence, ClockPause, DeliveryMethod, PauseKind, Status, WarningLevel

OPEN_SHARE = 0.1
CASES_PER_APPLICANT = 50
BATCH = 5000  # rows per insert on SQLite, per progress step everywhere
COLUMNS = [
    "id", "number", "version_id", "item_id", "department_id", "region_code", "applicant_person_id",
    "applicant_org_id", "applicant_id_last4", "channel", "form_data", "status", "submission_round",
    "delivery_method", "delivery_address", "created_at", "updated_at", "submitted_at", "accepted_at",
    "deemed_accepted", "refusal_reason", "decision", "decision_reason", "decided_at", "completed_at",
    "delivered_at", "withdrawn_at", "withdraw_reason", "received_on", "acceptance_due",
    "acceptance_due_provisional", "clock_start", "due_date", "due_provisional", "yellow_on", "warning_level",
]  # fmt: skip
# open states and their shares among open cases
OPEN_MIX = [
    (Status.SUBMITTED, 0.12),
    (Status.ACCEPTED, 0.28),
    (Status.IN_REVIEW, 0.54),
    (Status.SUSPENDED, 0.02),
    (Status.CORRECTION_REQUESTED, 0.04),
]
CLOSED_MIX = [(Status.DELIVERED, 0.6), (Status.COMPLETED, 0.2), (Status.REFUSED, 0.1), (Status.WITHDRAWN, 0.1)]


@lru_cache(maxsize=65536)
def _add(day: dt.date, days: int) -> tuple[dt.date, bool]:
    wd = add_working_days(day, days)
    return wd.date, wd.provisional


def _pick(rng: random.Random, mix: list[tuple[str, float]]) -> str:
    return rng.choices([s for s, _w in mix], weights=[w for _s, w in mix])[0]


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A moment in office hours of ``day`` (local time)."""
    local = dt.datetime.combine(day, dt.time(8, 30)) + dt.timedelta(minutes=rng.randrange(8 * 60))
    return timezone.make_aware(local)


def _versions() -> list[ItemVersion]:
    versions = list(
        ItemVersion.objects.filter(ItemVersion.in_force(), promised_days__gt=0).select_related("item", "item__region")
    )
    if not versions:
        raise Conflict(_("未找到可办理的事项：请先运行 yiwang load-demo 载入演示数据，再生成压测数据。"))
    return versions


def _applicants(count: int, rng: random.Random) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(id, last four of the id number) of people and organisations to apply, generating a pool."""
    people_wanted = max(1, min(200_000, count * 7 // 10 // CASES_PER_APPLICANT))
    orgs_wanted = max(1, min(60_000, count * 3 // 10 // CASES_PER_APPLICANT))
    base = NaturalPerson.objects.count() + LegalPerson.objects.count() + rng.randrange(10**6)
    birth = dt.date(1960, 1, 1)
    people = []
    for i in range(people_wanted):
        n = base + i  # one (birth day, sequence) pair per n: unique ID numbers for 20 million people
        number = make_citizen_id("441602", birth + dt.timedelta(days=n // 1000 % 20000), n % 1000)
        people.append(
            NaturalPerson(
                name=f"压测申请人{base + i}",
                id_number=number,
                id_digest=blind_index(number),
                id_last4=number[-4:],
                region_id=None,
            )
        )
    NaturalPerson.objects.bulk_create(people, batch_size=2000, ignore_conflicts=True)
    orgs = [
        LegalPerson(name=f"压测企业{base + i}", uscc=make_uscc("91441600", f"{(base + i) % 10**8:08d}"))
        for i in range(orgs_wanted)
    ]
    LegalPerson.objects.bulk_create(orgs, batch_size=2000, ignore_conflicts=True)
    persons = list(NaturalPerson.objects.values_list("pk", "id_last4"))
    companies = [(pk, uscc[-4:]) for pk, uscc in LegalPerson.objects.values_list("pk", "uscc")]
    return persons, companies


class _Numbers:
    """Case numbers per (实施编码, day), continuing ``CaseNumberSequence``; written back by ``save``."""

    def __init__(self, codes: list[str]) -> None:
        self.last = {
            (code, day): last
            for code, day, last in CaseNumberSequence.objects.filter(code__in=codes).values_list("code", "day", "last")
        }
        self.touched: set[tuple[str, dt.date]] = set()

    def take(self, code: str, day: dt.date) -> str:
        key = (code, day)
        self.last[key] = n = self.last.get(key, 0) + 1
        self.touched.add(key)
        return f"{code}{day:%Y%m%d}{n:04d}"

    def save(self) -> None:
        rows = [CaseNumberSequence(code=c, day=d, last=self.last[(c, d)]) for c, d in self.touched]
        CaseNumberSequence.objects.bulk_create(
            rows, batch_size=2000, update_conflicts=True, unique_fields=["code", "day"], update_fields=["last"]
        )


def _level(today: dt.date, due: dt.date | None, yellow_on: dt.date | None) -> str:
    if due is None:
        return WarningLevel.NONE
    if today > due:
        return WarningLevel.RED
    if yellow_on and yellow_on <= today:
        return WarningLevel.YELLOW
    return WarningLevel.NONE


def _case_row(pk: int, version: ItemVersion, applicant, status: str, rng: random.Random, ctx: dict) -> tuple:
    """One case row (``COLUMNS`` order) and its open pause, if any."""
    today, as_of, numbers = ctx["today"], ctx["as_of"], ctx["numbers"]
    item = version.item
    person, org, last4 = applicant
    acceptance_days, promised = version.acceptance_days, version.promised_days
    pause = None
    accepted_at = decided_at = completed_at = delivered_at = withdrawn_at = None
    clock_start = due_date = yellow_on = acceptance_due = None
    due_provisional = acceptance_provisional = False
    decision = refusal = withdraw_reason = ""
    if status == Status.SUBMITTED:
        # mostly within the acceptance limit; one in a thousand past it (the next sweep deems it accepted, case by case)
        back = acceptance_days + 1 if rng.random() < 0.001 else rng.randrange(acceptance_days or 1)
        submitted_on = _add(today, -back)[0]
    elif status in (Status.ACCEPTED, Status.IN_REVIEW, Status.SUSPENDED, Status.CORRECTION_REQUESTED):
        started = rng.randrange(math.ceil(promised * 1.15) + 1)  # a few past their due date
        clock_start = _add(today, -started)[0]
        submitted_on = _add(clock_start, -rng.randrange(acceptance_days + 1))[0]
        accepted_at = _at(clock_start, rng)
    else:
        submitted_on = today - dt.timedelta(days=rng.randrange(60, 3 * 365))
        submitted_on = _add(submitted_on, 1)[0]
    submitted_at = _at(submitted_on, rng)
    received_on = submitted_on
    if status == Status.SUBMITTED:
        acceptance_due, acceptance_provisional = _add(submitted_on, acceptance_days)
        yellow_on = clock.yellow_day(submitted_on, acceptance_days, 0, acceptance_due)
        level = _level(as_of, acceptance_due, yellow_on)
    elif clock_start is not None:
        paused = 0
        if status in (Status.SUSPENDED, Status.CORRECTION_REQUESTED):
            began = _add(clock_start, rng.randrange(max(1, promised)))[0]
            began = min(began, today)
            pause = (
                PauseKind.CORRECTION if status == Status.CORRECTION_REQUESTED else PauseKind.EXPERT_REVIEW,
                _at(began, rng),
                Status.IN_REVIEW,
            )
            paused = max(0, working_days_between(began, today)[0])
        due_date, due_provisional = _add(clock_start, promised + paused)
        yellow_on = clock.yellow_day(clock_start, promised, paused, due_date)
        level = WarningLevel.NONE if pause else _level(as_of, due_date, yellow_on)
        if pause and status == Status.SUSPENDED:
            level = _level(as_of, due_date, yellow_on)
    else:
        level = WarningLevel.NONE
        if status == Status.REFUSED:
            refusal = "材料不符合法定形式"
        elif status == Status.WITHDRAWN:
            withdraw_reason = "申请人主动撤回"
            withdrawn_at = _at(_add(submitted_on, 2)[0], rng)
        else:
            clock_start = _add(submitted_on, 1)[0]
            accepted_at = _at(clock_start, rng)
            due_date, due_provisional = _add(clock_start, promised)
            decided_day = _add(clock_start, rng.randrange(1, promised + 1))[0]
            decision = "approved" if rng.random() < 0.93 else "denied"
            decided_at = _at(decided_day, rng)
            completed_at = decided_at + dt.timedelta(hours=1)
            if status == Status.DELIVERED:
                delivered_at = completed_at + dt.timedelta(days=2)
    number = numbers.take(item.code, submitted_on)
    updated = max(m for m in (submitted_at, accepted_at, decided_at, delivered_at, withdrawn_at) if m)
    row = (
        pk, number, version.pk, item.pk, item.department_id, item.region_id, person, org,
        last4, "online", "{}", status, 1, DeliveryMethod.WINDOW, "", submitted_at, updated, submitted_at,
        accepted_at, False, refusal, decision, "", decided_at, completed_at, delivered_at, withdrawn_at,
        withdraw_reason, received_on, acceptance_due, acceptance_provisional, clock_start, due_date,
        due_provisional, yellow_on, level,
    )  # fmt: skip
    return row, pause


def generate_cases(
    count: int,
    *,
    seed: int = 0,
    progress: Callable[[int], object] | None = None,
    open_share: float = OPEN_SHARE,
) -> int:
    """Write ``count`` cases (``open_share`` of them open) and their open pauses. ``progress(n)`` is
    called after each batch of ``n`` rows. Returns the number of cases written."""
    with calendar.pinned():  # the dates of millions of rows from one look at the calendar tables
        return _generate(count, seed, progress, open_share)


def _generate(count: int, seed: int, progress, open_share: float) -> int:
    _add.cache_clear()  # the calendar may have changed since the last run in this process
    rng = random.Random(seed)
    versions = _versions()
    weights = list(itertools.accumulate(max(1, 10 - i % 10) for i in range(len(versions))))  # some far more popular
    persons, companies = _applicants(count, rng)
    today = timezone.localdate()
    ctx = {"today": today, "as_of": _add(today, -1)[0], "numbers": _Numbers([v.item.code for v in versions])}
    next_id = (Case.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    written = 0
    while written < count:
        size = min(BATCH, count - written)
        rows, pauses = [], []
        for i in range(size):
            version = rng.choices(versions, cum_weights=weights)[0]
            if rng.random() < 0.7:
                pk, last4 = rng.choice(persons)
                applicant = (pk, None, last4)
            else:
                pk, last4 = rng.choice(companies)
                applicant = (None, pk, last4)
            status = _pick(rng, OPEN_MIX) if rng.random() < open_share else _pick(rng, CLOSED_MIX)
            row, pause = _case_row(next_id + i, version, applicant, status, rng, ctx)
            rows.append(row)
            if pause:
                pauses.append((next_id + i, *pause, version.item.region_id))
        with transaction.atomic():
            _write(rows, pauses)
        next_id += size
        written += size
        if progress:
            progress(size)
    with transaction.atomic():
        ctx["numbers"].save()
        _reset_sequence()
    return written


def _write(rows: list[tuple], pauses: list[tuple]) -> None:
    table = Case._meta.db_table
    pause_rows = [
        ClockPause(
            case_id=case_id,
            kind=kind,
            reason=_("压测数据"),
            started_at=started,
            applicant_informed_at=started,
            resume_status=resume,
            region_code=region,
        )
        for case_id, kind, started, resume, region in pauses
    ]
    if connection.vendor == "postgresql":
        sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        columns = ", ".join(COLUMNS)
        marks = ", ".join(["%s"] * len(COLUMNS))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", [_sqlite(r) for r in rows])
    ClockPause.objects.bulk_create(pause_rows, batch_size=2000)


def _sqlite(row: tuple) -> tuple:
    """Values as Django stores them on SQLite (UTC datetimes without offset, ISO dates)."""
    ops = connection.ops
    return tuple(
        ops.adapt_datetimefield_value(v)
        if isinstance(v, dt.datetime)
        else ops.adapt_datefield_value(v)
        if isinstance(v, dt.date)
        else v
        for v in row
    )


def _reset_sequence() -> None:
    """After explicit ids: the next case the platform creates takes the next free id."""
    if connection.vendor != "postgresql":
        return  # SQLite's rowid follows the largest id by itself
    table = Case._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
