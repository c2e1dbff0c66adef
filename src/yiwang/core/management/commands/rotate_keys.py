"""`yiwang rotate-keys`: re-encrypt the stored personal data and private keys under a new YIWANG_KEK."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.fields import CHUNK
from yiwang.core.services import RotationStep, rotate_encryption_key
from yiwang.core.sm import previous_keks


class Command(BaseCommand):
    help = gettext_lazy(
        "轮换加密密钥：把所有加密字段和签名私钥改用新的 YIWANG_KEK 加密（旧密钥放在 YIWANG_KEK_PREVIOUS）。"
        "分批进行，可中断后重新运行继续。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=CHUNK, help=_("每批行数（默认 %(n)d）") % {"n": CHUNK})

    def handle(self, *args, chunk: int = CHUNK, **options):
        if not previous_keks():
            self.stdout.write(_("未设置 YIWANG_KEK_PREVIOUS：只检查所有数据是否已用当前密钥加密。"))

        def show(step: RotationStep) -> None:
            self.stdout.write(
                _("%(table)s：已处理 %(seen)d / %(total)d 行，重新加密 %(rewritten)d 行")
                % {"table": step.table, "seen": step.seen, "total": step.total, "rewritten": step.rewritten}
            )

        try:
            rewritten = rotate_encryption_key(chunk=max(1, chunk), progress=show)
        except ValueError as exc:
            raise CommandError(
                _("无法轮换密钥：%(error)s。请核对 YIWANG_KEK、YIWANG_KEK_PREVIOUS 和 YIWANG_INDEX_KEY。")
                % {"error": exc}
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                _("完成：共重新加密 %(n)d 行，所有数据现只需当前 YIWANG_KEK 即可读取，可以移除 YIWANG_KEK_PREVIOUS。")
                % {"n": rewritten}
            )
        )
