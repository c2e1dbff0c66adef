"""`make bench`: every benchmark, one table, ``bench/results/latest.json``.

    .venv/bin/python bench/run.py --scale small     # a few minutes (make bench BENCH_SCALE=small)
    .venv/bin/python bench/run.py                   # full sizes

Starts the production set-up once (``bench._site``: scratch PostgreSQL database, Redis db 5, DEBUG=0,
gunicorn with several workers), runs the modules of ``MODULES`` in order — each exposes
``run(scale) -> list[dict]``; the HTTP one gets the running site — and prints how long it all took.
A module that fails is reported and the others still run; the run then exits non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
MODULES = ["web", "search", "cases_scale", "licences"]  # P1–P3, P4, P5/P6, P7
KEYS = ["id", "workload", "figure", "unit", "baseline", "baseline_unit", "ratio", "p99_ms", "errors", "rows_checked"]


def _fmt(value, unit: str | None = None) -> str:
    if value is None:
        return "—"
    text = f"{value:,.1f}" if isinstance(value, float) else str(value)
    return f"{text} {unit}" if unit else text


def print_table(results: list[dict]) -> None:
    rows = [("id", "workload", "figure", "baseline", "ratio", "p99 ms", "errors", "rows", "met")]
    for r in results:
        met = r.get("met")
        rows.append(
            (
                r["id"], r["workload"], _fmt(r["figure"], r["unit"]), _fmt(r["baseline"], r["baseline_unit"]),
                "—" if r["ratio"] is None else f"{r['ratio']:.1%}", _fmt(r["p99_ms"]), _fmt(r["errors"]),
                _fmt(r["rows_checked"]),
                "—" if met is None else ("yes" if met else "NO"),
            )
        )  # fmt: skip
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def main() -> None:
    parser = argparse.ArgumentParser(description="make bench: every benchmark, one table")
    parser.add_argument("--scale", choices=["small", "full"], default=os.environ.get("BENCH_SCALE") or "full")
    parser.add_argument("--only", nargs="*", default=None, help="module names (default: all of MODULES)")
    args = parser.parse_args()
    started = time.perf_counter()
    results: list[dict] = []
    failed: list[str] = []
    site = None
    try:
        for name in args.only or MODULES:
            module = importlib.import_module(f"bench.{name}")
            print(f"== bench/{name}.py ({args.scale})", flush=True)
            t0 = time.perf_counter()
            try:
                if "site" in inspect.signature(module.run).parameters:
                    if site is None:
                        from bench._site import ProductionSite

                        site = ProductionSite().__enter__()
                    got = module.run(args.scale, site=site)
                else:
                    got = module.run(args.scale)
            except Exception:  # one broken benchmark must not lose the figures of the others
                traceback.print_exc()
                failed.append(name)
                continue
            for r in got:
                missing = [k for k in KEYS if k not in r]
                if missing:
                    raise SystemExit(f"bench/{name}.py: a result lacks {missing}: {r}")
            results.extend(got)
            print(f"   bench/{name}.py: {time.perf_counter() - t0:.0f} s", flush=True)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")
        print()
        print_table(results)
        print(f"\n{len(results)} results in {RESULTS.relative_to(ROOT)}")
    finally:
        if site is not None:
            # DROP DATABASE waits for every other session of the server to answer a barrier (a COPY
            # in progress elsewhere delays it)
            print("   dropping the bench database …", flush=True)
            site.stop()
    print(f"whole run {time.perf_counter() - started:.0f} s")
    if failed:
        raise SystemExit(f"failed: {', '.join(f'bench/{name}.py' for name in failed)}")


if __name__ == "__main__":
    # the repository root leads sys.path (modules imported as bench.<name>), bench/ comes last, after
    # the standard library, so that no bench module can shadow a standard one
    sys.path[0] = str(ROOT)
    sys.path.append(str(ROOT / "bench"))
    main()
