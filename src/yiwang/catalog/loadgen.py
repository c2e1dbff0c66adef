"""Catalog load data at province scale: ``generate_items`` fills the catalog with published service
items whose names, keywords and conditions come from the demo's standard items (``demo/items``), in the
demo's regions, each county's towns and every department of the demo in each of them, then indexes them
for search. What ``yiwang generate-load-data --items M`` and the search benchmark (``bench/search.py``)
run. Set-based: batched bulk inserts, the search index written by COPY on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation

from yiwang.core.ids import make_uscc
from yiwang.identity.models import Department, Region

from .models import ExerciseLevel, Handling, ItemType, ItemVersion, OnlineDepth, ServiceItem, ServiceObject, Theme
from .services import index_versions

DEMO = Path(__file__).resolve().parent.parent / "demo"
BATCH = 5000

# variants of one standard item as provinces list them (新办, 变更, 延续 …)
VARIANTS = ["", "（新办）", "（变更）", "（延续）", "（注销）", "（补证）", "（换证）", "（迁入）", "（迁出）"]
VARIANTS += ["（备案）"]
TOWN_SUFFIXES = ["街道", "镇", "乡"]
TOWN_NAMES = ["城东", "城南", "城西", "城北", "新江", "东埔", "源南", "埔前", "高埔", "义合"]
TOWN_NAMES += ["蓝口", "黄田", "灯塔", "骆湖", "船塘", "顺天", "上莞", "曾田", "柳城", "叶潭"]
AUDIENCES = [ServiceObject.BOTH, ServiceObject.PERSON, ServiceObject.ORGANISATION]
DEPTHS = [OnlineDepth.PRE_REVIEW, OnlineDepth.PRE_REVIEW, OnlineDepth.FULLY_ONLINE, OnlineDepth.DOWNLOAD]


def demo_vocabulary() -> tuple[list[dict], list[dict], list[dict]]:
    """(regions, departments, items) as the demo's YAML files list them."""
    import yaml

    region = yaml.safe_load((DEMO / "region.yaml").read_text(encoding="utf-8"))
    items = []
    for path in sorted((DEMO / "items").glob("*.yaml")):
        items.extend(yaml.safe_load(path.read_text(encoding="utf-8")).get("事项") or [])
    return region["行政区划"], region["部门"], items


def _places(regions: list[dict]) -> list[tuple[str, str]]:
    """(code, name) of the demo's city and counties and of twenty towns in each county, created if absent."""
    levels = {"省": Region.Level.PROVINCE, "市": Region.Level.CITY, "县": Region.Level.COUNTY}
    rows = [
        Region(code=r["区划代码"], name=r["名称"], level=levels[r["层级"]], parent_id=r.get("上级")) for r in regions
    ]
    towns = [
        Region(
            code=f"{county['区划代码']}{100 + i:03d}",
            name=name + TOWN_SUFFIXES[i % 3],
            level=Region.Level.TOWNSHIP,
            parent_id=county["区划代码"],
        )
        for county in regions
        if county["层级"] == "县"
        for i, name in enumerate(TOWN_NAMES)
    ]
    Region.objects.bulk_create(rows, ignore_conflicts=True)
    Region.objects.bulk_create(towns, ignore_conflicts=True)
    return [(r["区划代码"], r["名称"]) for r in regions if r["层级"] != "省"] + [(t.code, t.name) for t in towns]


def _departments(places: list[tuple[str, str]], templates: list[dict]) -> dict[str, list[tuple[int, str]]]:
    """Every department template of the demo in every place (created if absent): template → [(pk, region)]."""
    rows, template_of = [], {}
    for code, place in places:
        for number, template in enumerate(templates):
            base = template["名称"].replace("河源市", "").replace("源城区", "").replace("东源县", "")
            # organisation codes of their own (L…), apart from the demo's departments
            credit_code = make_uscc("11" + code[:6], f"L{code[6:]:0>3}{number:04d}")
            rows.append(
                Department(
                    name=place + base, short_name=template.get("简称", ""), credit_code=credit_code, region_id=code
                )
            )
            template_of[credit_code] = template["代号"].split("_")[-1]
    Department.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    by_template: dict[str, list[tuple[int, str]]] = {}
    found = Department.objects.filter(credit_code__in=list(template_of)).order_by("pk")
    for pk, credit_code, region_id in found.values_list("pk", "credit_code", "region_id"):
        by_template.setdefault(template_of[credit_code], []).append((pk, region_id))
    return by_template


def generate_items(count: int, *, seed: int = 0, progress: Callable[[int], Any] | None = None) -> int:
    """Add ``count`` published service items (one version each, in force since half a year) and index
    them; returns how many were added. ``progress`` is called with the number added so far. Regions,
    towns and departments are created first when missing; running it again adds more items."""
    rng = random.Random(seed)
    regions, templates, sources = demo_vocabulary()
    with translation.override("zh-hans"):
        by_label = {
            **{str(label): value for value, label in Theme.choices},
            **{str(label): value for value, label in ItemType.choices},
        }
    since = timezone.localdate() - dt.timedelta(days=180)
    now = timezone.now()
    with transaction.atomic():
        by_template = _departments(_places(regions), templates)
        first = (ServiceItem.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
        last_version = ItemVersion.objects.aggregate(n=Max("pk"))["n"] or 0
        items, versions = [], []
        for seq in range(first, first + count):
            depth = rng.choice(DEPTHS)
            source = sources[seq % len(sources)]
            owners = source["实施机构"] if isinstance(source["实施机构"], list) else [source["实施机构"]]
            department_id, region_id = rng.choice(by_template.get(owners[0].split("_")[-1]) or by_template["scjg"])
            views = int(rng.paretovariate(1.2)) - 1  # a few items are viewed far more
            items.append(
                ServiceItem(
                    code=f"{department_id:08d}{seq:023d}",
                    base_code=str(source.get("基本编码", ""))[:12],
                    department_id=department_id,
                    region_id=region_id,
                    popularity=views,
                    indexed_popularity=views,  # indexed with the versions below
                )
            )
            versions.append(
                ItemVersion(
                    number=1,
                    status=ItemVersion.Status.PUBLISHED,
                    effective_from=since,
                    published_at=now,
                    name=source["事项名称"] + rng.choice(VARIANTS),
                    item_type=by_label.get(source.get("事项类型"), ItemType.LICENSING),
                    exercise_level=ExerciseLevel.CITY,
                    service_object=rng.choice(AUDIENCES),
                    theme=by_label.get(source.get("主题分类"), Theme.OTHER),
                    keywords=source.get("关键词", ""),
                    legal_basis=source.get("设定依据", ""),
                    conditions=source.get("受理条件", ""),
                    handling=Handling.PROMISED,
                    statutory_days=20,
                    promised_days=10,
                    online_depth=depth,
                    # 零跑动 only when fully online (as publishing requires)
                    max_visits=0 if depth == OnlineDepth.FULLY_ONLINE else rng.choice([1, 1, 2]),
                    result_name=source.get("办理结果名称", ""),
                )
            )
            if len(items) == BATCH or seq == first + count - 1:
                created = ServiceItem.objects.bulk_create(items)
                for item, version in zip(created, versions, strict=True):
                    version.item_id = item.pk
                ItemVersion.objects.bulk_create(versions)
                if progress:
                    progress(seq - first + 1)
                items, versions = [], []
        index_versions(ItemVersion.objects.filter(pk__gt=last_version, status=ItemVersion.Status.PUBLISHED))
    return count
