from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fields import EncryptedTextField


class CalendarYear(models.Model):
    """A year whose official holiday schedule (国务院办公厅节假日安排) is known.

    A year without a row counts weekdays less the statutory holidays, and every due date computed in it
    is provisional.
    """

    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    source = models.CharField(
        _("来源"), max_length=200, blank=True, help_text=_("如：国务院办公厅关于2027年部分节假日安排的通知")
    )
    published_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    # every change of the year's days goes through publish_schedule, which saves the year: the
    # calendar cache of every process compares this timestamp to notice a new schedule
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("节假日安排年份")
        verbose_name_plural = verbose_name
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to the weekday rule: a holiday on a weekday, or a make-up workday (调休) at a weekend."""

    date = models.DateField(_("日期"), primary_key=True)
    year = models.ForeignKey(CalendarYear, on_delete=models.CASCADE, related_name="days", verbose_name=_("年份"))
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("名称"), max_length=50, blank=True, help_text=_("如：国庆节、春节调休上班"))

    class Meta:
        verbose_name = _("节假日/调休日")
        verbose_name_plural = verbose_name
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {_('上班') if self.is_workday else _('休息')} {self.name}".strip()


class AuditCheckpoint(models.Model):
    """Seals a batch of audit events into one SM2-signed SM3 Merkle root, chained to the previous
    checkpoint, so that deleting or editing any sealed event — even a whole subject's chain — shows.

    ``heads`` records, for every subject with events in the batch, the last sealed ``[seq, hash]``:
    it lets ``verify-audit`` name the subject whose events went missing.
    """

    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    first_event_id = models.BigIntegerField(_("首个事件"))
    last_event_id = models.BigIntegerField(_("末个事件"))
    event_count = models.PositiveIntegerField(_("事件数"))
    merkle_root = models.CharField(_("Merkle 根（SM3）"), max_length=64)
    heads = models.JSONField(_("各主体最后事件"), default=dict)
    prev_checkpoint_hash = models.CharField(_("上一检查点哈希"), max_length=64, blank=True)
    hash = models.CharField(_("检查点哈希"), max_length=64, unique=True)
    key_id = models.CharField(_("签名密钥"), max_length=16)
    signature = models.BinaryField(_("签名"))

    class Meta:
        verbose_name = _("审计检查点")
        verbose_name_plural = verbose_name
        ordering = ["id"]
        constraints = [
            # two checkpoints never follow the same one: a concurrent second sealing fails instead of forking
            models.UniqueConstraint(fields=["prev_checkpoint_hash"], name="audit_checkpoint_chain_unique")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ≤ {self.last_event_id} {self.merkle_root[:12]}"


class AuditEvent(models.Model):
    """One append-only event in the hash chain of its subject (a case, licence, grant, …).

    ``hash`` = SM3 over the canonical serialisation of the event including ``prev_hash`` (the
    previous event of the same subject), so chains of different subjects never contend.
    ``checkpoint`` is set once, when a checkpoint seals the event; it is not part of the hash.
    """

    subject_type = models.CharField(_("主体类型"), max_length=40)
    subject_id = models.CharField(_("主体标识"), max_length=64)
    seq = models.PositiveIntegerField(_("序号"))
    action = models.CharField(_("动作"), max_length=60)
    actor = models.CharField(_("操作人"), max_length=150, blank=True)
    actor_role = models.CharField(_("角色"), max_length=40, blank=True)
    at = models.DateTimeField(_("时间"))
    data = models.JSONField(_("数据"), default=dict, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True, db_index=True)
    prev_hash = models.CharField(_("前一事件哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)
    checkpoint = models.ForeignKey(
        AuditCheckpoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("检查点"),
    )

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = verbose_name
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["subject_type", "subject_id", "seq"], name="audit_subject_seq_unique")
        ]
        indexes = [models.Index(fields=["subject_type", "subject_id", "seq"])]

    def __str__(self) -> str:
        return f"{self.subject_type}:{self.subject_id}#{self.seq} {self.action}"


class SigningKey(models.Model):
    """An SM2 key pair of the platform or of a department (电子印章). The private key is SM4-encrypted
    under the key-encryption key; it never appears in clear in the database, logs, admin or API."""

    owner = models.CharField(_("持有者"), max_length=64, db_index=True, help_text=_("platform 或部门统一社会信用代码"))
    key_id = models.CharField(_("密钥标识"), max_length=16, unique=True)
    public_key = models.BinaryField(_("公钥"))
    private_key_enc = models.BinaryField(_("私钥（SM4加密）"), editable=False)
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"), null=True, blank=True)
    active = models.BooleanField(_("当前使用"), default=True)

    class Meta:
        verbose_name = _("签名密钥")
        verbose_name_plural = verbose_name
        ordering = ["owner", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.owner} {self.key_id}"

    def __repr__(self) -> str:  # never leak key material into logs
        return f"<SigningKey {self.owner} {self.key_id}>"


class Notification(models.Model):
    """A message sent (or to be sent) through the notifier: SMS/email/站内信. Kept for the user's inbox."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+", verbose_name=_("用户")
    )
    channel = models.CharField(_("渠道"), max_length=20, default="sms")
    # a phone number or an e-mail address: SM4-encrypted at rest like every contact datum
    recipient = EncryptedTextField(_("接收方"), max_length=200, blank=True)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = verbose_name
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.subject
