"""P1–P3 against a running site (``Target``): each figure measured by the load generator
(``bench/loadgen.py``, a process of its own) interleaved with its baseline on the same server, over
≥ 3 rounds; medians, spread, and the rows counted in the database afterwards."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCALES = {
    # seconds per measurement, rounds, P1 client counts, P2 surge size, P3 clients
    "tiny": {"seconds": 0.3, "rounds": 1, "clients": [1], "surge": 6, "readers": 1},  # the smoke test only
    "small": {"seconds": 3, "rounds": 3, "clients": [8, 32], "surge": 2000, "readers": 16},
    "full": {"seconds": 10, "rounds": 5, "clients": [8, 32], "surge": 100_000, "readers": 16},
}


@dataclass
class Target:
    """A running site: its URL, what to send (``bench._plan``), and SQL counts on its database."""

    base: str
    plan: dict
    scalar: Callable[[str, tuple], int]  # one integer from SQL with %s parameters
    tracebacks: Callable[[], int] = field(default=lambda: 0)

    def submitted_cases(self) -> int:
        return self.scalar(
            "SELECT COUNT(*) FROM cases_case WHERE submitted_by_id = %s AND status <> 'draft'"
            " AND number NOT LIKE 'BENCH%%'",
            (self.plan["submitter_id"],),
        )


def loadgen(job: dict) -> dict:
    out = subprocess.run(
        # as a module of the package bench, from the repository root
        [sys.executable, "-m", "bench.loadgen"], input=json.dumps(job), capture_output=True, text=True,
        timeout=7200, cwd=HERE.parent,
    )  # fmt: skip
    if out.returncode:
        raise SystemExit(f"load generator failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def interleaved(figure_job: dict, baseline_job: dict, rounds: int) -> tuple[list[dict], list[dict]]:
    """Figure and baseline in each round, alternating which goes first, so drift hits both alike."""
    figures, baselines = [], []
    for r in range(rounds):
        if r % 2:
            figures.append(loadgen(figure_job))
            baselines.append(loadgen(baseline_job))
        else:
            baselines.append(loadgen(baseline_job))
            figures.append(loadgen(figure_job))
    return figures, baselines


def summary(rid: str, workload: str, figures: list[dict], baselines: list[dict], **extra) -> dict:
    rates = [f["rate"] for f in figures]
    base = statistics.median(b["rate"] for b in baselines) if baselines else None
    figure = statistics.median(rates)
    p99s = [f["p99_ms"] for f in figures if f["p99_ms"] is not None]
    return {
        "id": rid,
        "workload": workload,
        "figure": round(figure, 1),
        "unit": "req/s",
        "baseline": round(base, 1) if base is not None else None,
        "baseline_unit": "req/s" if base is not None else None,
        "ratio": round(figure / base, 3) if base else None,
        "p99_ms": round(statistics.median(p99s), 1) if p99s else None,
        "errors": sum(f["errors"] for f in figures),
        "rows_checked": None,
        "rounds": rates,
        "spread": round(max(rates) - min(rates), 1),
        **extra,
    }


def _login(username: str, plan: dict) -> dict:
    return {"username": username, "password": plan["password"]}


def p1(t: Target, cfg: dict) -> list[dict]:
    """Authenticated API submission (form, one upload, one licence offer) vs the minimal insert endpoint."""
    results = []
    plan = t.plan
    for clients in cfg["clients"]:
        before = t.submitted_cases()
        inserted_before = t.scalar("SELECT COUNT(*) FROM cases_case WHERE number LIKE %s", ("BENCH%",))
        submit = {"base": t.base, "kind": "submit", "clients": clients, "seconds": cfg["seconds"],
                  "login": _login(plan["submit"]["username"], plan), **plan["submit"]}  # fmt: skip
        insert = {"base": t.base, "kind": "post", "path": f"/bench/insert/?like={plan['insert_like']}",
                  "clients": clients, "seconds": cfg["seconds"]}  # fmt: skip
        figures, baselines = interleaved(submit, insert, cfg["rounds"])
        stored = t.submitted_cases() - before
        inserted = t.scalar("SELECT COUNT(*) FROM cases_case WHERE number LIKE %s", ("BENCH%",)) - inserted_before
        answered = sum(f["created"] for f in figures)
        uploads = len(plan["submit"]["uploads"])
        res = summary("P1", f"POST /api/cases/ (form + {uploads} uploads + licence offer), {clients} clients",
                      figures, baselines, target="≥ 300 /s, ≥ 60 % of baseline, p99 < 100 ms, 0 errors")  # fmt: skip
        res["unit"] = res["baseline_unit"] = "submissions/s"
        res["errors"] += (
            abs(stored - answered)
            + sum(b["errors"] for b in baselines)
            + abs(inserted - sum(b["ok"] for b in baselines))
        )
        res["rows_checked"] = stored
        res["met"] = bool(res["figure"] >= 300 and (res["ratio"] or 0) >= 0.6 and (res["p99_ms"] or 1e9) < 100
                          and res["errors"] == 0)  # fmt: skip
        res["notes"] = (
            f"cases stored {stored} = 201 answers {answered}; baseline rows {inserted}; "
            f"p50 {statistics.median(f['p50_ms'] or 0 for f in figures):.0f} ms; "
            f"baseline p99 {statistics.median(b['p99_ms'] or 0 for b in baselines):.0f} ms"
            + (f"; samples: {figures[0]['samples'][:2]}" if figures[0]["samples"] else "")
        )
        results.append(res)
    return results


def p2(t: Target, cfg: dict) -> dict:
    """A surge of submissions, 5 % sent twice with the same Idempotency-Key: each stored exactly once."""
    n, plan = cfg["surge"], t.plan
    prefix = f"p2-{uuid.uuid4().hex[:8]}"
    before = t.submitted_cases()
    job = {"base": t.base, "kind": "submit", "clients": max(cfg["clients"]), "count": n, "key_prefix": prefix,
           "retry_share": 0.05, "login": _login(plan["submit"]["username"], plan), **plan["submit"]}  # fmt: skip
    out = loadgen(job)
    stored = t.submitted_cases() - before
    keys = t.scalar(
        "SELECT COUNT(DISTINCT k.case_id) FROM cases_idempotencykey k JOIN cases_case c ON c.id = k.case_id"
        " WHERE k.key LIKE %s AND c.status <> 'draft'",
        (prefix + "-%",),
    )
    duplicates = stored - keys
    errors = out["errors"] + abs(stored - n) + abs(duplicates)
    limit = 600 * n / 100_000
    return {
        "id": "P2",
        "workload": f"surge of {n} submissions, {max(cfg['clients'])} clients, 5 % retried with the same key",
        "figure": round(out["seconds"], 1),
        "unit": "s",
        "baseline": None,
        "baseline_unit": None,
        "ratio": None,
        "p99_ms": out["p99_ms"],
        "errors": errors,
        "rows_checked": stored,
        "target": f"all stored exactly once, < 10 min for 100 000 (here {limit:.0f} s for {n})",
        "met": errors == 0 and out["seconds"] < limit,
        "notes": f"{out['rate']:.1f} answers/s; {out['created']} created, {out['replayed']} retries answered "
        f"with the same case, {out['wrong_replays']} not; duplicates {duplicates}; statuses {out['statuses']}",
    }


def p3(t: Target, cfg: dict) -> list[dict]:
    """Reads beside the hello-world endpoint: progress query, my cases (50), the department queue."""
    plan, clients = t.plan, cfg["readers"]
    hello = {"base": t.base, "kind": "get", "paths": ["/bench/hello/"], "clients": clients, "seconds": cfg["seconds"]}
    progress = plan["progress"]
    reads = [
        ("progress query GET /api/progress/ (public)", None,
         [f"/api/progress/?number={progress['number']}&id_last4={progress['id_last4']}"], progress["number"]),
        (f"my cases GET /api/cases/ ({plan['mine']['cases']} cases)", plan["mine"]["username"], ["/api/cases/"],
         plan["mine"]["cases"]),
        ("department queue GET /api/cases/acceptance-queue/ (handler)", plan["queue"]["username"],
         ["/api/cases/acceptance-queue/"], None),
    ]  # fmt: skip
    results = []
    for workload, user, paths, expect in reads:
        job = {**hello, "paths": paths, "login": _login(user, plan) if user else None, "probe": paths[0]}
        figures, baselines = interleaved(job, {**hello, "warmup": 0}, cfg["rounds"])
        probe = figures[-1].get("probe") or {}
        if probe.get("count") is not None:
            rows = probe["count"]
            wrong = int(expect is not None and rows != expect)
        else:
            rows = int(probe.get("number") == expect)
            wrong = 1 - rows
        res = summary("P3", workload, figures, baselines, target="≥ 60 % of hello-world")
        res["errors"] += sum(b["errors"] for b in baselines) + wrong
        res["rows_checked"] = rows
        res["met"] = bool((res["ratio"] or 0) >= 0.6 and res["errors"] == 0)
        res["notes"] = f"p50 {statistics.median(f['p50_ms'] or 0 for f in figures):.1f} ms; answer {probe}" + (
            f"; statuses {figures[0]['statuses']}, baseline {baselines[0]['statuses']}" if res["errors"] else ""
        )
        results.append(res)
    return results


def run_against(t: Target, scale: str) -> list[dict]:
    cfg = SCALES[scale]
    out = []
    parts = os.environ.get("BENCH_HTTP_PARTS", "P1,P2,P3").split(",")  # e.g. P1,P3 for a quicker look
    for name, fn in ((n, f) for n, f in (("P1", p1), ("P2", p2), ("P3", p3)) if n in parts):
        t0 = time.perf_counter()
        got = fn(t, cfg)
        got = got if isinstance(got, list) else [got]
        print(f"   {name}: {time.perf_counter() - t0:.0f} s", flush=True)
        out.extend(got)
    tracebacks = t.tracebacks()
    if tracebacks:
        for r in out:
            r["notes"] = f"{r.get('notes') or ''}; {tracebacks} tracebacks in the server log".lstrip("; ")
    return out


def target_for(site) -> Target:
    """Plan the run on the site's database (``bench._plan`` in a process of its own) and count with psycopg."""
    import psycopg

    out = subprocess.run(
        [sys.executable, "-m", "bench._plan"], env=site.env, capture_output=True, text=True, cwd=HERE.parent
    )
    if out.returncode:
        raise SystemExit(f"planning failed:\n{out.stderr[-3000:]}")
    conn = psycopg.connect(site.database_url, autocommit=True)

    def scalar(sql: str, params: tuple) -> int:
        return int(conn.execute(sql, params).fetchone()[0])

    return Target(site.base, json.loads(out.stdout.strip().splitlines()[-1]), scalar, site.tracebacks)


def run(scale: str, site=None) -> list[dict]:
    """P1–P3 on ``site`` (a running ``ProductionSite``), or on a production set-up of its own."""
    if site is not None:
        return run_against(target_for(site), scale)
    from bench._site import ProductionSite

    with ProductionSite() as own:
        return run_against(target_for(own), scale)


def main() -> None:
    parser = argparse.ArgumentParser(description="P1–P3: the HTTP benchmarks")
    parser.add_argument("--scale", choices=sorted(SCALES), default=os.environ.get("BENCH_SCALE", "small"))
    args = parser.parse_args()
    results = run(args.scale)
    from bench.run import print_table

    print_table(results)
