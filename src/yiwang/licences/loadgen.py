"""Historical licences at scale for load tests: ``generate_licences(count)`` makes realistic 存量证照
rows and imports them through the importer's fast path, so that ``yiwang generate-load-data
--licences K`` rebuilds a library of any size.

The rows are modelled on licences already in the library (after ``yiwang load-demo``: the demo's
licence types, issuers and 照面信息): each template's type, issuer and data are kept, the holder
(name and a valid citizen ID or credit code), the 证照编号 and the dates are new. Each call is one
import batch (keyed by count and seed): the same call again adds nothing, another seed adds more.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from django.utils.translation import gettext as _

from yiwang.core.errors import InvalidInput
from yiwang.core.ids import make_citizen_id, make_uscc
from yiwang.core.sm import sm3_hex

from .importer import REQUIRED, import_rows
from .models import HolderCodeType, Licence

ACTOR = "command:generate-load-data"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余叶"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉萍红娟建国志文海燕晓东"
STATUSES = ["有效"] * 46 + ["暂扣", "撤销"]  # a few suspended or revoked, as in real archives
TEMPLATES = 500


def _templates() -> list[dict]:
    """Up to ``TEMPLATES`` first versions from the library: (type, issuer, holder, data) to vary."""
    rows = (
        Licence.objects.filter(version=1)
        .order_by("id")
        .values("type_code", "issuer_code", "holder_name", "holder_code_type", "region_code", "data",
                "licence_type__fields", "licence_type__number_prefix")[:TEMPLATES]
    )  # fmt: skip
    return list(rows)


def _holder(rng: random.Random, n: int, code_type: str) -> tuple[str, str]:
    """A made-up holder with a valid code: a citizen ID (region, birth date, sequence) or a credit code."""
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    if code_type == HolderCodeType.USCC:
        return name + rng.choice(("商行", "有限公司", "经营部", "餐饮店")), make_uscc("92441600", f"{n % 10**8:08d}")
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
    return name, make_citizen_id("441602", born, n % 1000)


def generate_licences(count: int, *, seed: int = 0, progress: Callable[[int], None] | None = None) -> int:
    """Import ``count`` generated historical licences; returns how many the library gained.
    ``progress(rows)`` is called after each chunk (for a progress bar)."""
    templates = _templates()
    if not templates:
        raise InvalidInput(_("证照库中没有可作样板的证照，请先运行 yiwang load-demo。"), field="licences")
    rng = random.Random(seed)
    today = dt.date.today()
    labels = sorted({spec["label"] for t in templates for spec in t["licence_type__fields"]})
    header = [*REQUIRED, "持证主体代码类型", "状态", *labels]
    rows = []
    for n in range(count):
        template = templates[n % len(templates)]
        name, code = _holder(rng, seed * 10**7 + n, template["holder_code_type"])
        by_name = {spec["name"]: spec["label"] for spec in template["licence_type__fields"]}
        data = {by_name[k]: str(v).replace(template["holder_name"], name) for k, v in template["data"].items()
                if k in by_name}  # fmt: skip
        issued = today - dt.timedelta(days=rng.randrange(1, 365 * 12))
        row = {
            "证照类型代码": template["type_code"],
            # a historical numbering scheme of its own, so that it never meets the platform's numbers
            "证照编号": f"{template['licence_type__number_prefix']}H{seed:03d}{n:09d}",
            "持证主体": name,
            "持证主体代码": code,
            "颁发机构代码": template["issuer_code"],
            "颁发日期": issued.isoformat(),
            "持证主体代码类型": template["holder_code_type"],
            "状态": rng.choice(STATUSES),
            **data,
        }
        rows.append((n + 2, row))  # numbered as in a file whose header is row 1
    before = Licence.objects.count()
    import_rows(
        header, rows, name=f"generated-{count}-seed-{seed}", fingerprint=sm3_hex(f"loadgen:{count}:{seed}".encode()),
        actor=ACTOR, on_progress=progress,
    )  # fmt: skip
    return Licence.objects.count() - before
