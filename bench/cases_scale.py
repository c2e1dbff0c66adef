"""Cases at province scale on PostgreSQL: P5 (reads at 1 M vs 10 M cases) and P6 (the deadline sweep
over 1 M open cases), with the load generation timed (rows/s).

    .venv/bin/python bench/cases_scale.py --scale small   # 20 k vs 200 k cases, sweep over 20 k open
    .venv/bin/python bench/cases_scale.py --scale full    # 1 M vs 10 M cases, sweep over 1 M open
    BENCH_CASES_BIG=5000000 … --scale full                # a smaller "big" database when time is short
                                                          # (also BENCH_CASES_BASE, BENCH_CASES_SWEEP)

P5: three reads as the platform issues them — a case by its number, an applicant's cases (first page,
newest first), a department's queue of running cases (first page, by due date) — timed on two
databases in the same rounds: the figure is the p95 on the big one (10 M), the baseline the same query
on the base one (1 M, of which the big one is a copy plus 9 M more cases). Target: ratio ≤ 1.5.

P6: ``deem_overdue_acceptances`` + ``refresh_warnings`` (what the 15-minute task runs) over a database
of open cases whose levels are those the previous working day left; seconds and queries per round,
levels checked afterwards against ``clock.warning_level`` for a sample. Between rounds the levels,
due dates and the events/messages of the sweep are restored. Baseline: the per-case path (lock,
recompute, ``_update_warning``: what the sweep did before) timed on a sample in the same round and
extrapolated to all open cases.

Scratch databases ``sweep_bench_<pid>_*`` on the server of DATABASE_URL (default the local one), created
and dropped here. Each step runs in its own process (one Django set-up per database). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

SCALES = {
    "small": {"base": 20_000, "big": 200_000, "sweep": 20_000, "samples": 40, "old_sample": 50},
    "full": {"base": 1_000_000, "big": 10_000_000, "sweep": 1_000_000, "samples": 60, "old_sample": 200},
}
ROUNDS = 3
CHECK_SAMPLE = 2000


def _result(id_: str, workload: str, **kw) -> dict:
    out = {
        "id": id_,
        "workload": workload,
        "figure": None,
        "unit": None,
        "baseline": None,
        "baseline_unit": None,
        "ratio": None,
        "p99_ms": None,
        "errors": 0,
        "rows_checked": 0,
    }
    out.update(kw)
    return out


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --- the steps, each in a child process -------------------------------------------------------------


def _setup() -> None:
    import django

    django.setup()


def step_demo() -> dict:
    _setup()
    from django.core.management import call_command

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    return {"seconds": time.perf_counter() - start}


def step_generate(n: int, open_share: float, seed: int) -> dict:
    _setup()
    from django.db import connection

    from yiwang.cases.loadgen import generate_cases

    start = time.perf_counter()
    written = generate_cases(n, seed=seed, open_share=open_share)
    seconds = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"written": written, "seconds": seconds, "rows_per_s": written / seconds}


def step_reads(samples: int) -> list[dict]:
    """P5, against the aliases "default" (base) and "big"."""
    _setup()
    from django.db import connections

    from yiwang.cases.models import Case, Status

    running = [Status.ACCEPTED, Status.IN_REVIEW]
    rng = random.Random(5)
    picks: dict[str, dict[str, list]] = {}
    for alias in ("default", "big"):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT min(id), max(id) FROM cases_case")
            lo, hi = cursor.fetchone()
        ids = [rng.randint(lo, hi) for _ in range(samples * ROUNDS * 2)]
        rows = list(
            Case.objects.using(alias)
            .filter(pk__in=ids)
            .values_list("number", "applicant_person_id", "applicant_org_id", "department_id")
        )
        picks[alias] = {
            "number": [r[0] for r in rows],
            "person": [r[1] for r in rows if r[1]],
            "department": sorted({r[3] for r in rows}),
        }

    def by_number(alias: str, number: str) -> int:
        case = Case.objects.using(alias).select_related("version", "department").filter(number=number).first()
        return 0 if case is not None and case.number == number else 1

    def applicant_page(alias: str, person: int) -> int:
        page = list(
            Case.objects.using(alias)
            .filter(applicant_person_id=person)
            .exclude(status=Status.DRAFT)
            .order_by("-updated_at", "-id")[:20]
        )
        bad = any(c.applicant_person_id != person for c in page) or not page
        return int(bad or [c.updated_at for c in page] != sorted((c.updated_at for c in page), reverse=True))

    def queue_page(alias: str, department: int) -> int:
        page = list(
            Case.objects.using(alias)
            .filter(department_id=department, status__in=running)
            .order_by("due_date", "id")[:20]
        )
        bad = any(c.department_id != department or c.status not in running for c in page)
        return int(bad or [c.due_date for c in page] != sorted(c.due_date for c in page))

    queries = [
        ("P5-number", "case by number", by_number, "number"),
        ("P5-applicant", "an applicant's cases, first page (newest first)", applicant_page, "person"),
        ("P5-queue", "a department's running cases, first page (by due date)", queue_page, "department"),
    ]
    results = []
    for id_, workload, fn, key in queries:
        per_round: dict[str, list[float]] = {"default": [], "big": []}
        all_big: list[float] = []
        errors = checked = 0
        for r in range(ROUNDS):
            for alias in ("default", "big"):  # interleaved: base then big in every round
                pool = picks[alias][key]
                times = []
                for i in range(samples):
                    arg = pool[(r * samples + i) % len(pool)]
                    start = time.perf_counter()
                    errors += fn(alias, arg)
                    times.append((time.perf_counter() - start) * 1000)
                    checked += 1
                per_round[alias].append(_p(times, 0.95))
                if alias == "big":
                    all_big += times
        figure = statistics.median(per_round["big"])
        baseline = statistics.median(per_round["default"])
        results.append(
            _result(
                id_,
                workload,
                figure=round(figure, 3),
                unit="ms p95",
                baseline=round(baseline, 3),
                baseline_unit="ms p95",
                ratio=round(figure / baseline, 2) if baseline else None,
                p99_ms=round(_p(all_big, 0.99), 3),
                errors=errors,
                rows_checked=checked,
                rounds=[round(x, 3) for x in per_round["big"]],
                spread=round(max(per_round["big"]) - min(per_round["big"]), 3),
                target="ratio ≤ 1.5",
                met=bool(baseline and figure / baseline <= 1.5),
                notes=f"baseline rounds {[round(x, 3) for x in per_round['default']]}",
            )
        )
    return results


def step_sweep(old_sample: int) -> list[dict]:
    """P6 on the default database (only open cases)."""
    _setup()
    from django.db import connection, transaction

    from yiwang.cases import clock, services
    from yiwang.cases.models import OPEN_STATES, Case, Status
    from yiwang.cases.services._base import _lock
    from yiwang.cases.services.time_limits import _refresh_due, _update_warning
    from yiwang.core.models import AuditEvent, Notification

    table = Case._meta.db_table
    open_cases = Case.objects.filter(status__in=OPEN_STATES).count()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE sweep_snap AS SELECT id, warning_level, due_date, due_provisional, yellow_on FROM {table}"
        )
        cursor.execute("CREATE UNIQUE INDEX ON sweep_snap (id)")
    mark_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    mark_note = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def restore() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} c SET warning_level = s.warning_level, due_date = s.due_date, "
                "due_provisional = s.due_provisional, yellow_on = s.yellow_on FROM sweep_snap s "
                "WHERE c.id = s.id AND (c.warning_level, c.due_date, c.yellow_on) IS DISTINCT FROM "
                "(s.warning_level, s.due_date, s.yellow_on)"
            )
        AuditEvent.objects.filter(id__gt=mark_event, action="warning_changed").delete()
        Notification.objects.filter(id__gt=mark_note).delete()
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")

    rng = random.Random(9)
    sample_ids = list(Case.objects.filter(status__in=OPEN_STATES).values_list("pk", flat=True))
    rounds, queries, old_rounds, changed, deemed = [], [], [], [], []
    errors = checked = 0
    for r in range(ROUNDS):
        if r:
            restore()
        executed: list[int] = []

        def counted(execute, *a, executed=executed):
            executed.append(1)
            return execute(*a)

        with connection.execute_wrapper(counted):
            start = time.perf_counter()
            deemed.append(len(services.deem_overdue_acceptances()))
            after_deem = len(executed)
            counts = services.refresh_warnings()
            rounds.append(time.perf_counter() - start)
        queries.append((after_deem, len(executed) - after_deem))
        changed.append(sum(counts.values()))
        # levels right afterwards, for a sample, by the reference computation
        for case in (
            Case.objects.filter(pk__in=rng.sample(sample_ids, min(CHECK_SAMPLE, len(sample_ids))))
            .filter(status__in=OPEN_STATES)
            .select_related("version")
        ):
            checked += 1
            errors += case.warning_level != clock.warning_level(case)
        # the per-case path the sweep replaced, on a sample, after restoring those cases' levels
        restore()
        old_ids = rng.sample(sample_ids, min(old_sample, len(sample_ids)))
        start = time.perf_counter()
        for pk in old_ids:
            with transaction.atomic():
                case = _lock(pk)
                if case.status not in OPEN_STATES:
                    continue
                fields = ["acceptance_due", "acceptance_due_provisional", "due_date", "due_provisional", "yellow_on"]
                before = [getattr(case, f) for f in fields]
                _refresh_due(case)
                _update_warning(case, [f for f, old in zip(fields, before, strict=True) if getattr(case, f) != old])
        per_case = (time.perf_counter() - start) / len(old_ids)
        old_rounds.append(per_case * open_cases)
    figure, baseline = statistics.median(rounds), statistics.median(old_rounds)
    submitted = Case.objects.filter(status=Status.SUBMITTED).count()
    return [
        _result(
            "P6",
            f"deadline sweep (deemed acceptance + warnings) over {open_cases:,} open cases",
            figure=round(figure, 2),
            unit="s",
            baseline=round(baseline, 1),
            baseline_unit="s (per-case sweep, extrapolated)",
            ratio=round(figure / baseline, 4) if baseline else None,
            errors=errors,
            rows_checked=checked,
            rounds=[round(x, 2) for x in rounds],
            spread=round(max(rounds) - min(rounds), 2),
            target="< 30 s, queries independent of the number of cases",
            met=figure < 30,
            notes=(
                f"queries per round (deeming, warnings) {queries}; levels changed per round {changed}; "
                f"deemed accepted per round {deemed} (per case, through the services); "
                f"still submitted {submitted:,}; per-case path "
                f"timed on {old_sample} cases per round: {[round(x, 1) for x in old_rounds]} s extrapolated"
            ),
        )
    ]


# --- the parent: scratch databases and child processes ------------------------------------------------


def _server() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else "postgres://postgres@127.0.0.1:5432/postgres"


def _admin(sql: str, timeout_s: int = 0) -> None:
    import psycopg

    parts = urlsplit(_server())
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if timeout_s:
            conn.execute(f"SET statement_timeout = '{timeout_s}s'")
        conn.execute(sql)


def _drop(name: str) -> None:
    """Drop a scratch database; a DROP waits for every backend of the server (a barrier), so one stuck
    session elsewhere would hold it forever: give up after two minutes and say what is left."""
    try:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', timeout_s=120)
    except Exception as exc:  # noqa: BLE001  (the results are still worth returning)
        sys.stderr.write(f"scratch database {name} not dropped ({exc}); drop it later\n")


def _url(name: str) -> str:
    return urlunsplit(urlsplit(_server())._replace(path=f"/{name}"))


def _child(step: str, db: str, *args: str, big: str | None = None) -> object:
    env = dict(
        os.environ,
        YIWANG_DATA_DIR=tempfile.mkdtemp(prefix="sweep-bench-"),
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="yiwang.settings",
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 40,
        YIWANG_KEK="00112233445566778899aabbccddeeff",
        DATABASE_URL=_url(db),
    )
    if big:
        env["BENCH_BIG_DB"] = big
    cmd = [sys.executable, __file__, "--child", step, *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stderr[-5000:])
        raise RuntimeError(f"step {step} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(scale: str) -> list[dict]:
    sizes = dict(SCALES[scale])
    for key in ("base", "big", "sweep"):  # smaller "full" runs when time is short, e.g. BENCH_CASES_BIG=5000000
        if os.environ.get(f"BENCH_CASES_{key.upper()}"):
            sizes[key] = int(os.environ[f"BENCH_CASES_{key.upper()}"])
    prefix = f"sweep_bench_{os.getpid()}"
    demo, base, big, sweep = (f"{prefix}_{x}" for x in ("demo", "base", "big", "sweep"))
    made: list[str] = []
    results: list[dict] = []

    def create(name: str, template: str | None = None) -> None:
        _admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        made.append(name)

    try:
        create(demo)
        demo_s = _child("demo", demo)["seconds"]
        create(base, demo)
        create(sweep, demo)
        gen_base = _child("generate", base, str(sizes["base"]), "0.1", "1")
        create(big, base)
        gen_big = _child("generate", big, str(sizes["big"] - sizes["base"]), "0.1", "2")
        results += _child("reads", base, str(sizes["samples"]), big=big)
        gen_sweep = _child("generate", sweep, str(sizes["sweep"]), "1.0", "3")
        results += _child("sweep", sweep, str(sizes["old_sample"]))
        for id_, gen in (("P5-load", gen_base), ("P5-load-big", gen_big), ("P6-load", gen_sweep)):
            results.append(
                _result(
                    id_,
                    f"generate-load-data: {gen['written']:,} cases (COPY)",
                    figure=round(gen["rows_per_s"]),
                    unit="rows/s",
                    rows_checked=gen["written"],
                    notes=f"{gen['seconds']:.1f} s; demo loaded in {demo_s:.0f} s",
                )
            )
    finally:
        for name in reversed(made):
            _drop(name)
    return results


def _child_main(step: str, args: list[str]) -> None:
    if os.environ.get("BENCH_BIG_DB"):
        from django.conf import settings

        settings.DATABASES["big"] = {**settings.DATABASES["default"], "NAME": os.environ["BENCH_BIG_DB"]}
    if step == "demo":
        out: object = step_demo()
    elif step == "generate":
        out = step_generate(int(args[0]), float(args[1]), int(args[2]))
    elif step == "reads":
        out = step_reads(int(args[0]))
    else:
        out = step_sweep(int(args[0]))
    print(json.dumps(out, ensure_ascii=False, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child_main(args.child[0], args.child[1:])
        return
    for result in run(args.scale):
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
