"""`yiwang export-catalog FILE`: write every item's current version to a 实施清单 workbook."""

from pathlib import Path

from django.core.management.base import BaseCommand

from yiwang.catalog.excel import export_workbook


class Command(BaseCommand):
    help = "把现行有效的事项目录导出为实施清单 Excel 工作簿（事项、材料、环节三张表）。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="输出的 .xlsx 文件")

    def handle(self, *args, **options):
        path = Path(options["file"])
        path.write_bytes(export_workbook())
        self.stdout.write(f"已导出到 {path}")
