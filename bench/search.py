"""Catalog search benchmark: 125 000 service items with realistic Chinese names from the demo's
vocabulary, the search index built by the real indexing code (``rebuild_index``, what
`yiwang reindex-catalog` runs), then 20 realistic queries — words, phrases (开饭店), pinyin
(yingyezhizhao), initials (yyzz), misspellings — timed as the portal runs them (count, first page,
a suggestion when nothing matched). Prints p50/p95 in ms and the ratio of p95 to a baseline measured in
the same run: a plain indexed lookup of an item by its code on the same table.

    .venv/bin/python bench/search.py                  # 125 000 items (a few minutes)
    .venv/bin/python bench/search.py --items 20000    # smaller
    .venv/bin/python bench/search.py --repeat 10      # more runs per query

Runs on a fresh SQLite database in a temporary directory, and also on a scratch PostgreSQL database
(created beside the one DATABASE_URL names, dropped afterwards) when DATABASE_URL is set. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from licences import rate  # noqa: E402  (the shared helper: calls per CPU and wall-clock second)

DEMO = Path(__file__).resolve().parent.parent / "src" / "yiwang" / "demo"

# (query, what a user means): Chinese words and phrases, pinyin, initials, misspellings
QUERIES = [
    "营业执照",
    "食品经营许可",
    "开饭店",
    "开餐馆",
    "个体户",
    "养老保险 转移",
    "失业保险金",
    "公积金提取",
    "户口迁移",
    "出生登记",
    "不动产登记",
    "建筑施工许可",
    "道路运输",
    "纳税记录",
    "yingyezhizhao",
    "shipinjingying",
    "yyzz",
    "gjj",
    "营业执找",  # 照 mistyped as 找
    "yingyezhizao",  # zh typed as z
]
# variants of one standard item as provinces list them (新办, 变更, 延续 …)
VARIANTS = [
    "",
    "（新办）",
    "（变更）",
    "（延续）",
    "（注销）",
    "（补证）",
    "（换证）",
    "（迁入）",
    "（迁出）",
    "（备案）",
]
TOWN_SUFFIXES = ["街道", "镇", "乡"]
TOWN_NAMES = ["城东", "城南", "城西", "城北", "新江", "东埔", "源南", "埔前", "高埔", "义合"]
TOWN_NAMES += ["蓝口", "黄田", "灯塔", "骆湖", "船塘", "顺天", "上莞", "曾田", "柳城", "叶潭"]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def demo_vocabulary() -> tuple[list[dict], list[dict], list[dict]]:
    """(regions, departments, items) as the demo's YAML files list them."""
    import yaml

    region = yaml.safe_load((DEMO / "region.yaml").read_text(encoding="utf-8"))
    items = []
    for path in sorted((DEMO / "items").glob("*.yaml")):
        items.extend(yaml.safe_load(path.read_text(encoding="utf-8")).get("事项") or [])
    return region["行政区划"], region["部门"], items


def generate(n_items: int, seed: int = 2026) -> dict[str, float]:
    """Bulk-insert regions, departments, items and published versions (set-based, no services)."""
    from django.db import transaction
    from django.utils import timezone, translation

    from yiwang.catalog.models import ExerciseLevel, Handling, ItemType, ItemVersion, OnlineDepth, ServiceItem, Theme
    from yiwang.core.ids import make_uscc
    from yiwang.identity.models import Department, Region

    rng = random.Random(seed)
    regions, departments, items = demo_vocabulary()
    with translation.override("zh-hans"):
        by_label = {
            **{str(label): value for value, label in Theme.choices},
            **{str(label): value for value, label in ItemType.choices},
        }
    levels = {"省": Region.Level.PROVINCE, "市": Region.Level.CITY, "县": Region.Level.COUNTY}
    started = time.perf_counter()
    with transaction.atomic():
        Region.objects.bulk_create(
            [
                Region(code=r["区划代码"], name=r["名称"], level=levels[r["层级"]], parent_id=r.get("上级"))
                for r in regions
            ]
        )
        counties = [r for r in regions if r["层级"] == "县"]
        towns = []
        for county in counties:
            for i, name in enumerate(TOWN_NAMES):
                code = f"{county['区划代码']}{100 + i:03d}"
                towns.append(
                    Region(
                        code=code,
                        name=name + TOWN_SUFFIXES[i % 3],
                        level=Region.Level.TOWNSHIP,
                        parent_id=county["区划代码"],
                    )
                )
        Region.objects.bulk_create(towns)
        # every department template of the demo, in the city, each county and each town
        places = [(r["区划代码"], r["名称"]) for r in regions if r["层级"] != "省"] + [(t.code, t.name) for t in towns]
        rows, template_of = [], []
        for code, place in places:
            for template in departments:
                base = template["名称"].replace("河源市", "").replace("源城区", "").replace("东源县", "")
                credit_code = make_uscc("11" + code[:6], f"{len(rows):08d}")
                short = template.get("简称", "")
                rows.append(Department(name=place + base, short_name=short, credit_code=credit_code, region_id=code))
                template_of.append(template["代号"].split("_")[-1])
        Department.objects.bulk_create(rows, batch_size=2000)
        department_ids = list(Department.objects.order_by("pk").values_list("pk", "region_id"))
        by_template: dict[str, list[tuple[int, str]]] = {}
        for (pk, region_id), template in zip(department_ids, template_of, strict=True):
            by_template.setdefault(template, []).append((pk, region_id))
        now, since = timezone.now(), timezone.localdate() - dt.timedelta(days=180)
        batch_items, batch_versions = [], []
        for seq in range(n_items):
            source = items[seq % len(items)]
            owners = source["实施机构"] if isinstance(source["实施机构"], list) else [source["实施机构"]]
            template = owners[0].split("_")[-1]
            department_id, region_id = rng.choice(by_template.get(template) or by_template["scjg"])
            batch_items.append(
                ServiceItem(
                    code=f"{department_id:08d}{seq:023d}",
                    base_code=str(source.get("基本编码", ""))[:12],
                    department_id=department_id,
                    region_id=region_id,
                )
            )
            batch_versions.append(
                ItemVersion(
                    number=1,
                    status=ItemVersion.Status.PUBLISHED,
                    effective_from=since,
                    published_at=now,
                    name=source["事项名称"] + rng.choice(VARIANTS),
                    item_type=by_label.get(source.get("事项类型"), ItemType.LICENSING),
                    exercise_level=ExerciseLevel.CITY,
                    service_object="both",
                    theme=by_label.get(source.get("主题分类"), Theme.OTHER),
                    keywords=source.get("关键词", ""),
                    legal_basis=source.get("设定依据", ""),
                    conditions=source.get("受理条件", ""),
                    handling=Handling.PROMISED,
                    statutory_days=20,
                    promised_days=10,
                    online_depth=OnlineDepth.PRE_REVIEW,
                    result_name=source.get("办理结果名称", ""),
                )
            )
            if len(batch_items) == 5000 or seq == n_items - 1:
                created = ServiceItem.objects.bulk_create(batch_items)
                for item, version in zip(created, batch_versions, strict=True):
                    version.item_id = item.pk
                ItemVersion.objects.bulk_create(batch_versions)
                batch_items, batch_versions = [], []
    return {"generate_s": time.perf_counter() - started, "departments": len(rows), "regions": len(regions) + len(towns)}


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm: plans, caches
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def run(n_items: int, repeat: int) -> dict:
    """In this process, against the configured database: generate, index, time."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    figures = generate(n_items)

    from yiwang.catalog import selectors
    from yiwang.catalog.models import SearchTerm, ServiceItem
    from yiwang.catalog.services import rebuild_index, seed_synonyms

    start = time.perf_counter()
    seed_synonyms(actor="bench")
    indexed = rebuild_index()
    figures["index_s"] = time.perf_counter() - start
    figures["terms"] = SearchTerm.objects.count()
    figures["words"] = indexed["words"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def portal_search(q: str):
        """What the search page asks of the database: the count, the first page, a suggestion if empty."""
        results = selectors.search_items(q=q)
        count = results.count()
        page = list(results[0:20])
        if count == 0:
            results.suggestion  # noqa: B018
        return count, page

    per_query, samples = {}, []
    for q in QUERIES:
        count, page = portal_search(q)
        times = timed(lambda q=q: portal_search(q), repeat)
        samples += times
        per_query[q] = {"hits": count, "first": page[0].name if page else "", "p50_ms": percentile(times, 0.5)}
    rng = random.Random(7)
    codes = list(ServiceItem.objects.values_list("code", flat=True))
    lookups = rng.sample(codes, min(len(codes), 500))  # many samples: a sub-millisecond figure is noisy
    baseline = []
    for code in lookups:
        start = time.perf_counter()
        ServiceItem.objects.filter(code=code).values_list("pk", flat=True).first()
        baseline.append((time.perf_counter() - start) * 1000)
    per_second, _wall = rate(lambda: ServiceItem.objects.filter(code=rng.choice(codes)).exists(), 1)
    figures.update(
        vendor=connection.vendor,
        items=ServiceItem.objects.count(),
        per_query=per_query,
        p50_ms=percentile(samples, 0.5),
        p95_ms=percentile(samples, 0.95),
        baseline_p50_ms=percentile(baseline, 0.5),
        baseline_p95_ms=percentile(baseline, 0.95),
        baseline_per_cpu_s=per_second,
    )
    figures["ratio_p95"] = figures["p95_ms"] / figures["baseline_p95_ms"]
    return figures


def report(f: dict) -> None:
    print(f"\n== {f['vendor']}: {f['items']:,} items, {f['departments']:,} departments, {f['regions']} regions")
    print(
        f"   generated in {f['generate_s']:.1f} s; index built in {f['index_s']:.1f} s "
        f"({f['terms']:,} terms, {f['words']:,} words)"
    )
    print(f"   {'query':<16} {'hits':>7}  {'p50 ms':>8}  first result")
    for q, r in f["per_query"].items():
        print(f"   {q:<16} {r['hits']:>7}  {r['p50_ms']:>8.1f}  {r['first']}")
    print(f"   search:   p50 {f['p50_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms")
    print(
        f"   baseline (item by code): p50 {f['baseline_p50_ms']:.2f} ms, p95 {f['baseline_p95_ms']:.2f} ms "
        f"({f['baseline_per_cpu_s']:,.0f} lookups per CPU second)"
    )
    print(f"   ratio p95 search / p95 baseline: {f['ratio_p95']:.0f}×")


def child(database_url: str | None, args) -> dict:
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
    cmd = [sys.executable, __file__, "--child", "--items", str(args.items), "--repeat", str(args.repeat)]
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
    name = f"yiwang_bench_search_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=125_000, help="service items to generate (default 125000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query (default 5)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.items, args.repeat), ensure_ascii=False))
        return
    print(f"Catalog search: {args.items:,} items, {len(QUERIES)} queries × {args.repeat} runs")
    report(child(None, args))
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        url, drop = scratch_postgres(os.environ["DATABASE_URL"])
        try:
            report(child(url, args))
        finally:
            drop()


if __name__ == "__main__":
    main()
