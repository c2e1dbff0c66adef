"""`yiwang verify-audit`: re-hash every audit chain and checkpoint; name the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from yiwang.core.verify import verify_audit


class Command(BaseCommand):
    help = "校验审计记录：重新计算每条记录链和每个检查点的哈希与签名，报告第一处断裂。发现问题时退出码非零。"

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="列出全部问题，而不只是第一处")

    def handle(self, *args, all: bool = False, **options):
        report = verify_audit()
        self.stdout.write(
            f"审计记录：{report.subjects} 个主体，{report.events} 条事件，{report.checkpoints} 个检查点"
            f"（{report.unsealed} 条事件尚未封存）；核对了 {report.rows} 条办件、证照等记录的状态。"
        )
        if report.ok:
            self.stdout.write(self.style.SUCCESS("校验通过：所有记录链和检查点完整。"))
            return
        self.stdout.write(self.style.ERROR(f"第一处断裂：{report.first}"))
        if all:
            for problem in report.problems[1:]:
                self.stdout.write(f"  {problem}")
        elif len(report.problems) > 1:
            self.stdout.write(f"另有 {len(report.problems) - 1} 处问题，使用 --all 列出。")
        raise CommandError(f"审计记录校验失败：共 {len(report.problems)} 处问题。")
