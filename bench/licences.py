"""P7 — the licence library: sealing and verification beside `openssl speed sm2`, the issuing service,
and the bulk import (存量入库) of historical licences with a projection for 1 M rows.

    .venv/bin/python bench/licences.py --scale small     # 20 000 rows imported, a few minutes
    .venv/bin/python bench/licences.py --scale full      # 1 000 000 rows imported

Each round measures, interleaved: `openssl speed sm2` (sign, verify), sealing (payload, SM3, SM2;
no database), verification, `issue_licence`, and the import of a third of the rows (a CSV file
through `import_licences`, the path of `yiwang import-licences`), with sealing alone as the import's
baseline (what it costs per row at the least). The rounds import into one growing library, so the
last round runs against indexes of the full size. Runs on a scratch PostgreSQL database
``lic_bench_<pid>`` (created and dropped; server from LIC_BENCH_PG, default
postgres://postgres@127.0.0.1:5432) in a child process, so that its settings never meet another
benchmark's. Afterwards the licences are counted and a sample is verified (signature, key, audit).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SCALES = {"small": 20_000, "full": 1_000_000}
ONE_MILLION = 1_000_000
TARGET_SECONDS = 600


@dataclass
class Sizes:
    rows: int  # imported in all, over the rounds
    seconds: float  # per timing loop
    rounds: int = 3
    openssl: bool = True
    sample: int = 200  # licences whose signature is verified afterwards


def openssl_speed(seconds: float) -> tuple[float, float]:
    """(sign/s, verify/s) of OpenSSL 3 for SM2, single thread, per CPU second."""
    out = subprocess.run(
        ["openssl", "speed", "-seconds", str(max(1, round(seconds))), "sm2"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"SM2 \(CurveSM2\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(f"cannot read `openssl speed sm2` output:\n{out}")
    return float(match.group(1)), float(match.group(2))


def rate(fn: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Calls of ``fn`` per second of this process's CPU time (what `openssl speed` reports, so that
    other load on the machine does not skew the ratio) and per wall-clock second."""
    n, wall, cpu = 0, time.perf_counter(), time.process_time()
    deadline = wall + seconds
    while True:
        fn()
        n += 1
        if n % 10 == 0 and time.perf_counter() >= deadline:
            break
    return n / max(time.process_time() - cpu, 1e-9), n / (time.perf_counter() - wall)


def write_csv(path: Path, kind, department, start: int, count: int) -> None:
    from yiwang.core.ids import make_citizen_id

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["证照类型代码", "证照编号", "持证主体", "持证主体代码", "颁发机构代码", "颁发日期",
                         "经营者名称", "经营场所"])  # fmt: skip
        for n in range(start, start + count):
            writer.writerow([
                kind.code, f"JY9{n:013d}", f"经营者{n}",
                make_citizen_id("441602", dt.date(1950, 1, 1) + dt.timedelta(days=n % 20000), n % 1000),
                department.credit_code, (dt.date(2015, 1, 1) + dt.timedelta(days=n % 3650)).isoformat(),
                f"小吃店{n}", f"河源市源城区{n}号",
            ])  # fmt: skip


def _result(id_: str, workload: str, figures: list[float], unit: str, baselines: list[float] | None,
            baseline_unit: str | None, *, rows: int, errors: int, **extra) -> dict:  # fmt: skip
    figure = statistics.median(figures)
    baseline = statistics.median(baselines) if baselines else None
    return {
        "id": id_, "workload": workload, "figure": round(figure, 1), "unit": unit,
        "baseline": round(baseline, 1) if baseline else None, "baseline_unit": baseline_unit,
        "ratio": round(figure / baseline, 3) if baseline else None, "p99_ms": None, "errors": errors,
        "rows_checked": rows, "rounds": [round(f, 1) for f in figures], "spread": round(max(figures) - min(figures), 1),
        **extra,
    }  # fmt: skip


def measure(sizes: Sizes, workdir: Path) -> list[dict]:
    """The P7 results; Django is set up on an empty database (the benchmark's own, or a test's)."""
    from yiwang.core.ids import make_citizen_id, make_uscc
    from yiwang.identity.models import Department, NaturalPerson, Region
    from yiwang.licences import services
    from yiwang.licences.importer import CHUNK_SIZE, import_licences
    from yiwang.licences.models import HolderKind, Licence, LicenceType
    from yiwang.licences.seal import verify_signature
    from yiwang.licences.verification import record_problems

    region = Region.objects.create(code="441600", name="河源市", level=Region.Level.CITY)
    department = Department.objects.create(
        name="河源市市场监督管理局", credit_code=make_uscc("11441600", "00000001"), region=region
    )
    kind = LicenceType.objects.create(
        code="11100000000013338W001", name="食品经营许可证", holder_kind=HolderKind.PERSON, validity_years=5,
        number_prefix="JY", fields=[{"name": "shop_name", "label": "经营者名称", "required": True},
                                    {"name": "address", "label": "经营场所", "required": True}],
    )  # fmt: skip
    person = NaturalPerson.objects.create(name="张三", id_number=make_citizen_id("441602", dt.date(1980, 1, 1), 1))
    data = {"shop_name": "张三小吃店", "address": "河源市源城区越王大道1号"}
    licence = services.issue_licence(licence_type=kind, issuer=department, holder=person, data=data)
    sealer = services.sealer_for(department)
    payload, signature, public = licence.payload.encode(), bytes(licence.signature), bytes(sealer.key.public_key)
    serial = iter(range(10_000_000))

    def seal_one() -> None:
        licence.serial = next(serial)
        services.seal(licence, sealer)

    def issue_one() -> None:
        services.issue_licence(licence_type=kind, issuer=department, holder=person, data=data)

    per_round = [sizes.rows // sizes.rounds + (1 if r < sizes.rows % sizes.rounds else 0) for r in range(sizes.rounds)]
    m: dict[str, list[float]] = {k: [] for k in ("ossl_sign", "ossl_verify", "seal", "verify", "issue", "seal_wall",
                                                 "import_wall", "import_cpu")}  # fmt: skip
    imported, rejected, issued, started = 0, 0, 1, 0
    for count in per_round:
        if sizes.openssl:
            sign_ref, verify_ref = openssl_speed(sizes.seconds)
            m["ossl_sign"].append(sign_ref)
            m["ossl_verify"].append(verify_ref)
        cpu, wall = rate(seal_one, sizes.seconds)
        m["seal"].append(cpu)
        m["seal_wall"].append(wall)
        m["verify"].append(rate(lambda: verify_signature(public, payload, signature), sizes.seconds)[0])
        before = Licence.objects.count()
        m["issue"].append(rate(issue_one, sizes.seconds)[0])
        issued += Licence.objects.count() - before
        path = workdir / f"licences-{started}.csv"
        write_csv(path, kind, department, started, count)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        report = import_licences(path)
        m["import_wall"].append(count / (time.perf_counter() - wall0))
        m["import_cpu"].append(count / max(time.process_time() - cpu0, 1e-9))
        imported += report.imported
        rejected += report.rejected
        started += count
        path.unlink()

    # correctness: every row is in the library once, a sample verifies (signature, key, audit status)
    stored = Licence.objects.filter(origin="import").count()
    sample = list(Licence.objects.filter(origin="import").order_by("?")[: sizes.sample])
    bad = sum(
        not verify_signature(bytes(sealer.key.public_key), x.payload.encode(), bytes(x.signature)) for x in sample
    )
    bad += sum(bool(record_problems(x)) for x in sample[:20])
    errors = rejected + abs(stored - sizes.rows) + bad
    library = Licence.objects.count()
    import_rate = statistics.median(m["import_wall"])
    projected = ONE_MILLION / import_rate
    vendor = __import__("django.db", fromlist=["connection"]).connection.vendor
    ossl = bool(m["ossl_sign"])
    return [
        _result("P7", "签发封装+签名（payload、SM3、SM2；不含数据库）", m["seal"], "signs/s (CPU)",
                m["ossl_sign"] if ossl else None, "openssl speed sm2 signs/s" if ossl else None, rows=len(m["seal"]),
                errors=0, target="≥ 50 % of openssl",
                met=(statistics.median(m["seal"]) / statistics.median(m["ossl_sign"]) >= 0.5) if ossl else None),
        _result("P7", "验签（SM3+SM2，GmSSL）", m["verify"], "verifies/s (CPU)", m["ossl_verify"] if ossl else None,
                "openssl speed sm2 verifies/s" if ossl else None, rows=len(m["verify"]), errors=0, target="kept"),
        _result("P7", f"issue_licence 服务（{vendor} 事务：编号、签名、插入、审计）", m["issue"], "licences/s (CPU)",
                m["seal"], "seals/s (CPU)", rows=issued, errors=0, target="kept"),
        _result("P7", f"存量入库 {sizes.rows} 行分 {sizes.rounds} 轮（{vendor}，每批 {CHUNK_SIZE} 行）",
                m["import_wall"], "rows/s", m["seal_wall"], "seals/s (no database)", rows=stored, errors=errors,
                target="1 M rows < 10 min", met=projected < TARGET_SECONDS,
                notes=f"projection for 1 M rows: {projected / 60:.1f} min at the median rate; CPU rate of this "
                      f"process {statistics.median(m['import_cpu']):.0f} rows/s; library {library} licences; "
                      f"{len(sample)} signatures verified"),
    ]  # fmt: skip


def _child(scale: str) -> list[dict]:
    """Set up Django on a scratch PostgreSQL database, measure, drop the database."""
    import psycopg

    server = os.environ.get("LIC_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    name = f"lic_bench_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    workdir = Path(tempfile.mkdtemp(prefix="yiwang-bench-licences-"))
    os.environ.update(
        YIWANG_DATA_DIR=str(workdir), DATABASE_URL=f"{server}/{name}", DJANGO_SETTINGS_MODULE="yiwang.settings",
        LOG_LEVEL="WARNING", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(48), YIWANG_KEK=secrets.token_hex(16),
    )  # fmt: skip
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return measure(Sizes(rows=SCALES[scale], seconds=3 if scale == "full" else 2), workdir)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")


def run(scale: str) -> list[dict]:
    """P7 at ``scale`` ("small" or "full"), measured in a child process (its own Django settings)."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--scale", scale, "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON line")
    args = parser.parse_args()
    started = time.perf_counter()
    results = _child(args.scale)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return
    for r in results:
        base = f"  baseline {r['baseline']} {r['baseline_unit']}  ratio {r['ratio']:.0%}" if r["baseline"] else ""
        print(
            f"{r['id']} {r['workload']}: {r['figure']} {r['unit']} (rounds {r['rounds']}){base}  errors {r['errors']}"
        )
        if r.get("notes"):
            print(f"     {r['notes']}")
    print(f"({args.scale}: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
