"""P4 — catalog search: 125 000 service items (``yiwang.catalog.loadgen.generate_items``: realistic
Chinese names from the demo's standard items, indexed by the real indexing code), then 20 realistic
queries — words, phrases (开饭店), pinyin (yingyezhizhao), initials (yyzz), misspellings — timed as the
portal runs them (count, first page, a suggestion when nothing matched). The figure is the p95 in ms,
beside a baseline measured interleaved in the same rounds: a plain indexed lookup of an item by its
code. Correctness: every query's first page holds the item family a user means, and on one town's
items the matches and their scores equal a naive reference computed in Python from the items' texts.

    .venv/bin/python bench/search.py --scale small    # 5 000 items, about a minute
    .venv/bin/python bench/search.py                  # 125 000 items (a few minutes per database)

Runs on a fresh SQLite database in a temporary directory, and also on a scratch PostgreSQL database
(created beside the one DATABASE_URL names, dropped afterwards) when DATABASE_URL is set. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

SCALES = {"small": 5_000, "full": 125_000}
ROUNDS = 3
TARGET_MS = 20.0

# query → a fragment of a name that the first page must show (the item family the user means)
QUERIES = {
    "营业执照": "设立登记",
    "食品经营许可": "食品经营许可",
    "开饭店": "食品经营许可",
    "开餐馆": "食品经营许可",
    "个体户": "个体工商户设立登记",
    "养老保险 转移": "养老保险关系转移接续",
    "失业保险金": "失业保险金申领",
    "公积金提取": "住房公积金提取",
    "户口迁移": "户口",
    "出生登记": "户口登记（出生）",
    "不动产登记": "不动产转移登记",
    "建筑施工许可": "建筑工程施工许可证核发",
    "道路运输": "道路运输经营许可",
    "纳税记录": "个人所得税纳税记录",
    "yingyezhizhao": "设立登记",
    "shipinjingying": "食品经营许可",
    "yyzz": "设立登记",
    "gjj": "住房公积金",
    "营业执找": "营业执照",  # 照 mistyped as 找: found by 营业, 执找 suggested as 营业执照 (or ignored)
    "yingyezhizao": "营业执照",  # zh typed as z: nothing found, "did you mean" 营业执照
}


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def portal_search(q: str):
    """What the search page asks of the database: the count, the first page, a suggestion if needed."""
    from yiwang.catalog import selectors

    results = selectors.search_items(q=q)
    count = results.count()
    page = list(results[0:20])
    return results, count, page, results.suggestion


def check_query(q: str, expected: str) -> tuple[int, str]:
    """(errors, what was seen) for one query: the family in the first page, or the suggestion."""
    results, count, page, suggestion = portal_search(q)
    names = [v.name for v in page]
    ok = any(expected in name for name in names) or suggestion == expected
    ok = ok and len(page) == min(count, 20)
    if count <= 200:  # every page together is the count
        ok = ok and len(list(results)) == count
    seen = f"{count} hits, first {names[0] if names else '—'}, suggestion {suggestion or '—'}"
    return (0 if ok else 1), seen


def reference_check(region: str) -> tuple[int, int]:
    """(errors, rows compared): for every query, the matches among one region's items and their scores
    as the search gives them, against a naive reference from the items' texts (every group of the
    query's plan must be among an item's words; the score is the sum of the matched words' weights)."""
    from yiwang.catalog import selectors, text
    from yiwang.catalog.services.search import version_texts

    versions = list(selectors.current_versions().filter(item__region_id=region))
    terms = {v.pk: text.weighted_terms(version_texts(v)) for v in versions}
    errors = rows = 0
    for q in QUERIES:
        plan = selectors.plan_query(q)
        words = {w for group in plan.groups for w in group}
        expected = {}
        for pk, weights in terms.items():
            if plan.groups and all(any(w in weights for w in group) for group in plan.groups):
                expected[pk] = sum(weights[w] for w in words if w in weights)
        results = selectors.search_items(q=q, region=region)
        found = list(results)
        got = {v.pk: v.score for v in found}
        scores = [v.score for v in found]
        if got != expected or results.count() != len(expected) or scores != sorted(scores, reverse=True):
            errors += 1
        rows += len(expected)
    return errors, rows


def measure(items: int, repeat: int) -> dict:
    """In this process, against the configured database: generate, index, check, time."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from yiwang.catalog.loadgen import generate_items
    from yiwang.catalog.models import SearchTerm, ServiceItem
    from yiwang.catalog.services import seed_synonyms
    from yiwang.identity.models import Region

    started = time.perf_counter()
    seed_synonyms(actor="bench")
    generate_items(items, seed=2026)
    build_s = time.perf_counter() - started
    terms = SearchTerm.objects.count()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    errors, seen = 0, {}
    for q, expected in QUERIES.items():
        wrong, seen[q] = check_query(q, expected)
        errors += wrong
    town = Region.objects.filter(level=Region.Level.TOWNSHIP).order_by("code").values_list("code", flat=True).first()
    wrong, rows_checked = reference_check(town)
    errors += wrong

    rng = random.Random(7)
    codes = list(ServiceItem.objects.values_list("code", flat=True))
    for q in QUERIES:  # warm: plans, caches
        portal_search(q)
    rounds, baselines, all_samples = [], [], []
    for _ in range(ROUNDS):
        samples, base = [], []
        for _ in range(repeat):
            for q in QUERIES:
                start = time.perf_counter()
                portal_search(q)
                samples.append((time.perf_counter() - start) * 1000)
                code = rng.choice(codes)
                start = time.perf_counter()
                ServiceItem.objects.filter(code=code).values_list("pk", flat=True).first()
                base.append((time.perf_counter() - start) * 1000)
        rounds.append(percentile(samples, 0.95))
        baselines.append(percentile(base, 0.95))
        all_samples += samples
    figure, baseline = statistics.median(rounds), statistics.median(baselines)
    per_query = "; ".join(f"{q}: {s}" for q, s in seen.items())
    return {
        "id": "P4",
        "workload": f"catalog search, {ServiceItem.objects.count():,} items, {len(QUERIES)} queries "
        f"(count + first page + suggestion), {connection.vendor}",
        "figure": round(figure, 2),
        "unit": "ms p95",
        "baseline": round(baseline, 3),
        "baseline_unit": "ms p95 (item by code)",
        "ratio": round(figure / baseline, 1) if baseline else None,
        "p99_ms": round(percentile(all_samples, 0.99), 2),
        "errors": errors,
        "rows_checked": rows_checked,
        "rounds": [round(r, 2) for r in rounds],
        "spread": round(max(rounds) - min(rounds), 2),
        "target": f"p95 < {TARGET_MS:g} ms",
        "met": figure < TARGET_MS and errors == 0,
        "notes": f"p50 {percentile(all_samples, 0.5):.1f} ms; items generated and indexed in {build_s:.1f} s "
        f"({terms:,} index rows); {per_query}",
    }


def child(database_url: str | None, items: int, repeat: int) -> dict:
    """Run the benchmark in a fresh process (one Django set-up per database)."""
    env = dict(
        os.environ,
        YIWANG_DATA_DIR=tempfile.mkdtemp(prefix="yiwang-bench-search-"),
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="yiwang.settings",
        DEBUG="0",
        SECRET_KEY=os.urandom(32).hex(),
        YIWANG_KEK=os.urandom(16).hex(),
    )
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    cmd = [sys.executable, os.path.abspath(__file__), "--child", str(items), "--repeat", str(repeat)]
    try:
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stderr)
        raise
    finally:
        shutil.rmtree(env["YIWANG_DATA_DIR"], ignore_errors=True)  # the scratch database is about 1 GB
    return json.loads(out.strip().splitlines()[-1])


def scratch_postgres(url: str):
    """(url of a new scratch database beside ``url``'s, a function that drops it)."""
    import psycopg

    parts = urlsplit(url)
    prefix = (parts.path.lstrip("/").split("_")[0] or "yiwang") + "_"
    name = f"{prefix}bench_search_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def run(scale: str, repeat: int | None = None) -> list[dict]:
    """One result per database: SQLite, and PostgreSQL when DATABASE_URL names one."""
    items = SCALES[scale]
    repeat = repeat or (3 if scale == "small" else 5)
    results = [child(None, items, repeat)]
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        url, drop = scratch_postgres(os.environ["DATABASE_URL"])
        try:
            results.append(child(url, items, repeat))
        finally:
            drop()
    return results


def report(results: list[dict]) -> None:
    for r in results:
        print(f"\n== {r['workload']}")
        print(
            f"   p95 {r['figure']} ms (rounds {r['rounds']}, spread {r['spread']}), p99 {r['p99_ms']} ms; "
            f"baseline {r['baseline']} {r['baseline_unit']}; ratio {r['ratio']}×"
        )
        print(f"   errors {r['errors']}, rows checked {r['rows_checked']}, target {r['target']}: met {r['met']}")
        print(f"   {r['notes']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per query and round")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.repeat or 3), ensure_ascii=False))
        return
    results = run(args.scale, args.repeat)
    report(results)
    print(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
