"""`yiwang worker`: the background worker (huey consumer) with its periodic tasks.

Storage comes from the settings: Redis when REDIS_URL is set (production), otherwise a SQLite file
in the data directory. Tasks survive a restart in both.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


def describe_storage() -> str:
    huey = settings.HUEY
    if "url" in huey:
        url = urlsplit(huey["url"])
        return f"Redis {url.hostname}:{url.port or 6379}{url.path}"  # never print the password
    return f"SQLite {huey.get('filename', '')}"


class Command(BaseCommand):
    help = "运行后台任务进程（huey）：办件时限扫描、提醒、审计检查点等。生产环境设置 REDIS_URL。"

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=None, help="并行执行任务的线程数（默认见设置）")
        parser.add_argument(
            "--no-periodic", action="store_true", help="不调度定时任务（只让一个后台任务进程调度，其余加此参数）"
        )

    def handle(self, *args, workers=None, no_periodic=False, **options):
        if settings.HUEY.get("immediate"):
            raise CommandError("YIWANG_HUEY_IMMEDIATE 已开启：任务在请求中立即执行，不需要后台任务进程。")
        consumer = settings.HUEY.get("consumer", {})
        count = workers or consumer.get("workers", 1)
        periodic = "不调度定时任务" if no_periodic else "调度定时任务"
        self.stdout.write(f"后台任务进程：{describe_storage()}，{count} 个线程，{periodic}。按 Ctrl-C 停止。")
        call_command("run_huey", workers=count, periodic=not no_periodic)
