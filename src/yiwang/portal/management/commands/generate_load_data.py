"""`yiwang generate-load-data --cases N --items M --licences K`: province-scale load data on top of the
demo (``yiwang load-demo`` first), written in bulk with a progress bar. Items come first, so that the
generated cases also fall on generated items; licences last. Each part is its app's ``loadgen``."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from yiwang.catalog.models import ItemVersion
from yiwang.core.errors import YiwangError


class Command(BaseCommand):
    help = "在演示数据之上生成压测数据（事项、办件、证照），须先运行 yiwang load-demo。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cases", type=int, default=0, help="生成的办件数")
        parser.add_argument("--items", type=int, default=0, help="生成的事项数")
        parser.add_argument("--licences", type=int, default=0, help="生成的证照数")
        parser.add_argument("--seed", type=int, default=0, help="随机种子（相同种子生成相同数据）")
        parser.add_argument("--open-share", type=float, default=None, help="在办办件的比例（默认 0.1）")

    def handle(self, *args, cases: int, items: int, licences: int, seed: int, open_share, **options) -> None:
        if min(cases, items, licences) < 0:
            raise CommandError("数量不能为负数。")
        if not (cases or items or licences):
            raise CommandError("请指定 --cases、--items 或 --licences 中至少一项。")
        if not ItemVersion.objects.filter(ItemVersion.in_force()).exists():
            raise CommandError("尚未载入演示数据：请先运行 yiwang load-demo，再生成压测数据。")
        try:
            if items:
                from yiwang.catalog.loadgen import generate_items

                self._run("事项", items, lambda p: generate_items(items, seed=seed, progress=p))
            if cases:
                from yiwang.cases.loadgen import OPEN_SHARE, generate_cases

                share = OPEN_SHARE if open_share is None else open_share
                self._run("办件", cases, lambda p: generate_cases(cases, seed=seed, progress=p, open_share=share))
            if licences:
                from yiwang.licences.loadgen import generate_licences

                self._run("证照", licences, lambda p: generate_licences(licences, seed=seed, progress=p))
        except YiwangError as exc:
            raise CommandError(str(exc)) from exc

    def _run(self, what: str, total: int, generate) -> None:
        started = time.perf_counter()
        with tqdm(total=total, desc=what, unit="条", file=sys.stderr, disable=None) as bar:
            written = generate(bar.update)
        seconds = time.perf_counter() - started
        rate = written / seconds if seconds else 0
        self.stdout.write(f"已生成{what} {written} 条，用时 {seconds:.1f} 秒（{rate:,.0f} 条/秒）。")
