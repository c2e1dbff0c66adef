"""`yiwang import-catalog FILE`: import a 实施清单 workbook, all items or none."""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yiwang.catalog.excel import import_workbook
from yiwang.core.errors import YiwangError


class Command(BaseCommand):
    help = "导入实施清单 Excel 工作簿（事项、材料、环节三张表）：全部校验通过后一次性导入并发布，否则不导入任何数据。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="实施清单 .xlsx 文件")
        parser.add_argument("--effective-from", help="生效日期（年-月-日），默认今天")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        effective = None
        if options["effective_from"]:
            try:
                effective = dt.date.fromisoformat(options["effective_from"])
            except ValueError:
                raise CommandError("生效日期应为 年-月-日，例如 2026-12-01") from None
        try:
            with path.open("rb") as fh:
                result = import_workbook(fh, actor="command:import-catalog", effective_from=effective)
        except YiwangError as exc:
            for line in exc.errors or [exc.message]:
                self.stderr.write(str(line))
            raise CommandError(f"未导入任何数据（{len(exc.errors or [1])}处错误）。") from None
        self.stdout.write(result.summary)
