"""Licence library benchmark: sealing (issue + sign) and verification throughput beside
`openssl speed sm2` measured in the same run, the full issuing service, and the bulk import rate.

    .venv/bin/python bench/licences.py                 # 100 000 rows for the import (a few minutes)
    .venv/bin/python bench/licences.py --rows 5000     # smaller
    .venv/bin/python bench/licences.py --seconds 1     # shorter timing loops

Runs on a fresh SQLite database in a temporary directory (DATABASE_URL is ignored). Not a test.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def openssl_speed(seconds: int) -> tuple[float, float]:
    """(sign/s, verify/s) of OpenSSL 3 for SM2, single thread."""
    out = subprocess.run(
        ["openssl", "speed", "-seconds", str(seconds), "sm2"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"SM2 \(CurveSM2\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"cannot read `openssl speed sm2` output:\n{out}")
    return float(match.group(1)), float(match.group(2))


def rate(fn, seconds: float) -> tuple[float, float]:
    """Calls of ``fn`` per second of this process's CPU time (what `openssl speed` reports by
    default, so that other load on the machine does not skew the ratio) and per wall-clock second."""
    n, wall, cpu = 0, time.perf_counter(), time.process_time()
    deadline = wall + seconds
    while True:
        fn()
        n += 1
        if n % 20 == 0 and time.perf_counter() >= deadline:
            break
    return n / (time.process_time() - cpu), n / (time.perf_counter() - wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows for the bulk import (default 100000)")
    parser.add_argument("--seconds", type=int, default=3, help="seconds per timing loop (default 3)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="yiwang-bench-licences-"))
    os.environ["YIWANG_DATA_DIR"] = str(workdir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # as in production: no per-query debug bookkeeping (which wants its own secrets, made up here)
    os.environ["DEBUG"] = "0"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(48)
    os.environ["YIWANG_KEK"] = secrets.token_hex(16)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from yiwang.core.ids import make_citizen_id, make_uscc
    from yiwang.identity.models import Department, NaturalPerson, Region
    from yiwang.licences import services
    from yiwang.licences.files import envelope_bytes
    from yiwang.licences.importer import import_licences
    from yiwang.licences.models import HolderKind, LicenceType
    from yiwang.licences.seal import canonical, payload_of, verify_signature
    from yiwang.licences.verification import verify_file

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
    lines = []

    print(f"openssl speed -seconds {args.seconds} sm2 …", file=sys.stderr)
    ossl_sign, ossl_verify = openssl_speed(args.seconds)

    # 1. sealing: what issuing does per licence besides the database (payload, SM3, SM2 signature)
    licence = services.issue_licence(licence_type=kind, issuer=department, holder=person, data=data)
    sealer = services.sealer_for(department)
    serial = iter(range(10_000_000))

    def seal_one():
        licence.serial = next(serial)
        services.seal(licence, sealer)

    lines.append(("签发封装+签名（payload、SM3、SM2；不含数据库）", *rate(seal_one, args.seconds), ossl_sign))

    # 2. signature verification, and the full check of a .ylic file (parse, key lookup, row checks)
    payload, signature = licence.payload.encode(), bytes(licence.signature)
    public = bytes(sealer.key.public_key)
    lines.append(("验签（SM3+SM2）", *rate(lambda: verify_signature(public, payload, signature), args.seconds),
                  ossl_verify))  # fmt: skip
    licence = services.issue_licence(licence_type=kind, issuer=department, holder=person, data=data)
    ylic = envelope_bytes(licence)
    assert verify_file(ylic).genuine
    label = "核验 .ylic 文件（解析、查密钥、验签、证照库记录核对）"
    lines.append((label, *rate(lambda: verify_file(ylic), args.seconds), ossl_verify))

    # 3. the issuing service: serial under a row lock, seal, insert, audit event, one transaction each
    issue = rate(
        lambda: services.issue_licence(licence_type=kind, issuer=department, holder=person, data=data),
        args.seconds,
    )
    lines.append(("issue_licence 服务（SQLite 事务、编号、签名、审计）", *issue, ossl_sign))
    assert canonical(payload_of(licence)) == licence.payload.encode()

    # 4. bulk import (存量入库)
    path = workdir / "licences.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["证照类型代码", "证照编号", "持证主体", "持证主体代码", "颁发机构代码", "颁发日期",
                         "经营者名称", "经营场所"])  # fmt: skip
        for n in range(args.rows):
            writer.writerow([
                kind.code, f"JY9{n:013d}", f"经营者{n}",
                make_citizen_id("441602", dt.date(1950, 1, 1) + dt.timedelta(days=n % 20000), n % 1000),
                department.credit_code, "2022-03-01", f"小吃店{n}", f"河源市源城区{n}号",
            ])  # fmt: skip
    print(f"importing {args.rows} rows …", file=sys.stderr)
    start, start_cpu = time.perf_counter(), time.process_time()
    report = import_licences(path)
    elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    assert report.imported == args.rows, report.summary

    print()
    print("每秒次数：按本进程 CPU 时间计（与 openssl speed 默认口径相同），括号内为墙钟时间。")
    for label, cpu, wall, reference in lines:
        print(f"  {label}: {cpu:8.0f}/s（墙钟 {wall:.0f}/s）  OpenSSL {reference:.0f}/s  比值 {cpu / reference:.0%}")
    print(f"OpenSSL 3 speed sm2（同次运行）：签名 {ossl_sign:.0f}/s，验签 {ossl_verify:.0f}/s")
    print(
        f"批量导入：{args.rows} 行，用时 {elapsed:.1f} s（CPU {elapsed_cpu:.1f} s）= {args.rows / elapsed:.0f} 行/s"
        f"（CPU 口径 {args.rows / elapsed_cpu:.0f} 行/s；SQLite，每批 500 行，逐行签名、审计、记录结果）"
    )
    print(f"(work directory: {workdir})")


if __name__ == "__main__":
    main()
