"""`yiwang audit-checkpoint`: seal the new audit events into signed checkpoints now."""

from django.core.management.base import BaseCommand

from yiwang.core.services import seal_pending_events


class Command(BaseCommand):
    help = "立即把尚未封存的审计事件封存为检查点（SM3 Merkle 根，平台 SM2 签名）。后台任务每分钟自动执行一次。"

    def handle(self, *args, **options):
        sealed = seal_pending_events()
        if not sealed:
            self.stdout.write("没有新的审计事件需要封存。")
        for cp in sealed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"检查点 #{cp.pk}：封存 {cp.event_count} 条事件（id {cp.first_event_id}–{cp.last_event_id}），"
                    f"Merkle 根 {cp.merkle_root[:16]}…，签名密钥 {cp.key_id}。"
                )
            )
