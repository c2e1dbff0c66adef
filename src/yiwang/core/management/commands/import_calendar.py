"""`yiwang import-calendar FILE`: enter a year's official holiday schedule from a CSV or xlsx file."""

from django.core.management.base import BaseCommand, CommandError

from yiwang.core.errors import YiwangError
from yiwang.core.schedule_file import read_schedule
from yiwang.core.services import publish_schedule


class Command(BaseCommand):
    help = (
        "导入一个年份的节假日安排（CSV 或 xlsx，列：日期、是否上班、名称）。"
        "先检查全部行，有任何错误则不导入。已有的该年安排会被替换。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 或 xlsx 文件")
        parser.add_argument("--source", default="", help="来源，如国务院办公厅通知的文号；默认为文件名")

    def handle(self, *args, file: str, source: str, **options):
        try:
            year, days = read_schedule(file)
            publish_schedule(year, days, source or file, actor="import-calendar")
        except YiwangError as exc:
            for err in exc.errors or []:
                if isinstance(err, dict):
                    self.stderr.write(f"第{err['row']}行 {err['column']}：{err['message']}")
                else:
                    self.stderr.write(str(err))
            raise CommandError(exc.message) from None
        holidays = sum(1 for d in days if not d.is_workday)
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入 {year} 年节假日安排：{holidays} 个休息日，{len(days) - holidays} 个调休上班日。"
            )
        )
