"""`yiwang import-licences FILE`: 存量入库 of historical licences from CSV or Excel."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from yiwang.core.errors import YiwangError
from yiwang.licences.importer import CHUNK_SIZE, import_licences


class Command(BaseCommand):
    help = (
        "导入存量电子证照（CSV 或 Excel）：分批签名入库，显示进度；中断后重新运行同一文件即从中断处继续，"
        "不会重复导入；被拒绝的行及原因写入同目录的 <文件名>.rejected.csv 并在屏幕上列出。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="证照数据文件（.csv 或 .xlsx）")
        parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE, help="每批行数（每批一个事务）")
        parser.add_argument("--max-rows", type=int, help="本次最多处理的行数（大文件可分多次导入）")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        if options["chunk_size"] < 1:
            raise CommandError("每批行数应为正整数。")
        bar = None

        def start(total: int) -> None:
            nonlocal bar
            bar = tqdm(total=total, desc="导入证照", unit="行", disable=options["no_progress"], file=self.stderr)

        try:
            report = import_licences(
                path,
                chunk_size=options["chunk_size"],
                max_rows=options["max_rows"],
                on_start=start,
                on_progress=lambda n: bar.update(n),
            )
        except YiwangError as exc:
            raise CommandError(exc.message) from None
        finally:
            if bar is not None:
                bar.close()
        for row_number, number, reason in report.rejections:
            self.stdout.write(f"第 {row_number} 行（证照编号 {number or '—'}）：{reason}")
        self.stdout.write(report.summary)
        if report.rejected_file:
            self.stdout.write(f"被拒绝的行已写入：{report.rejected_file}")
