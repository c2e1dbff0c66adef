"""Cases (办件): one application for one item version, from draft to delivery.

Tables and the invariants a row can check by itself. Every state change goes through
``yiwang.cases.services``; nothing here changes another row. Every big table carries
``region_code`` (the implementing region of the item) so that it can be sharded by region.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.catalog.models import ItemVersion, MaterialRequirement, ServiceItem, Stage
from yiwang.core.fields import EncryptedTextField
from yiwang.identity.models import Department, LegalPerson, NaturalPerson


class Channel(models.TextChoices):
    ONLINE = "online", _("网上申报")
    WINDOW = "window", _("窗口受理")


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已申报，待受理")
    CORRECTION_REQUESTED = "correction_requested", _("待补正")
    ACCEPTED = "accepted", _("已受理")
    REFUSED = "refused", _("不予受理")
    IN_REVIEW = "in_review", _("审查中")
    SUSPENDED = "suspended", _("特别程序中")
    APPROVED = "approved", _("准予办理")
    DENIED = "denied", _("不予办理")
    COMPLETED = "completed", _("已办结")
    DELIVERED = "delivered", _("已送达")
    WITHDRAWN = "withdrawn", _("已撤回")


class Decision(models.TextChoices):
    NONE = "", _("未决定")
    APPROVED = "approved", _("准予")
    DENIED = "denied", _("不予")


class WarningLevel(models.TextChoices):
    NONE = "none", _("正常")
    YELLOW = "yellow", _("黄色预警")
    RED = "red", _("红色预警（已超期）")


class DeliveryMethod(models.TextChoices):
    WINDOW = "window", _("窗口领取")
    POST = "post", _("邮寄送达")
    ELECTRONIC = "electronic", _("电子送达")


class Case(models.Model):
    """办件. ``number`` (办件编号) is allocated at submission; a draft has none."""

    number = models.CharField(_("办件编号"), max_length=64, null=True, blank=True)  # unique: see Meta
    version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="cases", verbose_name=_("事项版本"))
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="cases", verbose_name=_("事项"))
    # no single-column indexes on department and region_code: the (department, status) and
    # (region_code, status) indexes serve their lookups, and every index costs each write of 24 M rows
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="cases", verbose_name=_("实施机构"), db_index=False
    )
    region_code = models.CharField(_("行政区划代码"), max_length=12)

    applicant_person = models.ForeignKey(
        NaturalPerson, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("申请人")
    )
    applicant_org = models.ForeignKey(
        LegalPerson, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("申请单位")
    )
    agent = models.ForeignKey(
        NaturalPerson, on_delete=models.PROTECT, null=True, blank=True, related_name="cases_as_agent",
        verbose_name=_("经办人"),
    )  # fmt: skip
    # for the public progress query
    applicant_id_last4 = models.CharField(_("申请人证件后四位"), max_length=4, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="cases_submitted",
        verbose_name=_("提交账号"),
    )  # fmt: skip
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("窗口受理人"),
    )  # fmt: skip
    channel = models.CharField(_("申报渠道"), max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    form_data = models.JSONField(_("申请表"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=24, choices=Status.choices, default=Status.DRAFT)
    submission_round = models.PositiveSmallIntegerField(_("申报轮次"), default=1)
    delivery_method = models.CharField(
        _("送达方式"), max_length=12, choices=DeliveryMethod.choices, default=DeliveryMethod.WINDOW
    )
    delivery_address = EncryptedTextField(_("邮寄地址"), max_length=200, blank=True)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("申报时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("受理人"),
    )
    deemed_accepted = models.BooleanField(_("视为受理"), default=False)
    refusal_reason = models.TextField(_("不予受理理由"), blank=True)
    decision = models.CharField(_("决定"), max_length=10, choices=Decision.choices, default="", blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("决定人"),
    )
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdraw_reason = models.TextField(_("撤回理由"), blank=True)

    # The clock (see yiwang.cases.clock): every date is a local (Asia/Shanghai) date.
    received_on = models.DateField(_("收件日"), null=True, blank=True)  # last complete submission: starts acceptance
    acceptance_due = models.DateField(_("受理期限"), null=True, blank=True)
    acceptance_due_provisional = models.BooleanField(_("受理期限暂定"), default=False)
    clock_start = models.DateField(_("起算日（受理日）"), null=True, blank=True)
    due_date = models.DateField(_("办结期限"), null=True, blank=True)
    due_provisional = models.BooleanField(_("期限暂定"), default=False)
    # the day the running clock (acceptance while submitted, else the decision) reaches 80 % of its
    # working days; after its due date when the limit has no yellow phase. Lets the sweep decide in SQL.
    yellow_on = models.DateField(_("预警日"), null=True, blank=True)
    warning_level = models.CharField(_("预警"), max_length=6, choices=WarningLevel.choices, default=WarningLevel.NONE)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = verbose_name
        ordering = ["-id"]
        constraints = [
            # a constraint, not unique=True: on PostgreSQL that would add a second, LIKE index of the
            # numbers (the largest index of the table), and numbers are only looked up whole
            models.UniqueConstraint(fields=["number"], name="case_number_unique"),
            models.CheckConstraint(
                condition=Q(applicant_person__isnull=False) | Q(applicant_org__isnull=False),
                name="case_has_applicant",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False), name="case_number_after_draft"
            ),
            models.CheckConstraint(
                condition=Q(decision="") | Q(decision__in=["approved", "denied"], decided_at__isnull=False),
                name="case_decision_dated",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "status"]),
            models.Index(fields=["region_code", "status"]),
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["status", "acceptance_due"]),
            # the deadline sweep: the cases of one state and level whose due or yellow day has come
            models.Index(fields=["status", "warning_level", "due_date"], name="case_sweep_due"),
            models.Index(fields=["status", "warning_level", "yellow_on"], name="case_sweep_yellow"),
            # a department's running cases by due date (the queue's first page reads 20 index entries)
            models.Index(
                fields=["department", "due_date", "id"],
                condition=Q(status__in=["accepted", "in_review"]),
                name="case_queue_due",
            ),
        ]

    def __str__(self) -> str:
        return self.number or _("草稿 #%(pk)s") % {"pk": self.pk}

    @property
    def applicant_name(self) -> str:
        if self.applicant_org_id:
            return self.applicant_org.name
        return self.applicant_person.name if self.applicant_person_id else ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES


# A case still being handled: the clock and the warnings apply.
OPEN_STATES = frozenset(
    {Status.SUBMITTED, Status.CORRECTION_REQUESTED, Status.ACCEPTED, Status.IN_REVIEW, Status.SUSPENDED}
)
# After acceptance and before the decision: the decision clock runs (or is paused).
REVIEW_STATES = frozenset({Status.ACCEPTED, Status.IN_REVIEW, Status.SUSPENDED})


class CaseMaterial(models.Model):
    """One material of one submission round: an upload, or a licence / shared data used instead (免提交)."""

    class SatisfiedBy(models.TextChoices):
        UPLOAD = "upload", _("上传")
        LICENCE = "licence", _("电子证照")
        SHARED_DATA = "shared_data", _("共享数据")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials", verbose_name=_("办件"))
    # empty for a free upload answering a correction item that names no material (其他问题)
    requirement = models.ForeignKey(
        MaterialRequirement,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("申请材料"),
    )
    label = models.CharField(_("补正事项"), max_length=600, blank=True)
    correction_item = models.PositiveSmallIntegerField(_("补正事项序号"), null=True, blank=True)
    round = models.PositiveSmallIntegerField(_("申报轮次"), default=1)
    file = models.FileField(_("文件"), max_length=255, blank=True)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    sm3 = models.CharField(_("SM3摘要"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    content_type = models.CharField(_("文件类型"), max_length=60, blank=True)
    satisfied_by = models.CharField(_("提供方式"), max_length=12, choices=SatisfiedBy.choices)
    source_reference = models.CharField(_("来源标识"), max_length=200, blank=True)
    source_title = models.CharField(_("来源名称"), max_length=200, blank=True)
    source_data = models.JSONField(_("来源数据"), default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    region_code = models.CharField(_("区划代码"), max_length=12, db_index=True)

    class Meta:
        verbose_name = _("办件材料")
        verbose_name_plural = verbose_name
        ordering = ["case_id", "requirement__order", "round"]
        constraints = [
            models.UniqueConstraint(fields=["case", "requirement", "round"], name="casematerial_one_per_round"),
            models.UniqueConstraint(
                fields=["case", "round", "correction_item"],
                condition=Q(requirement__isnull=True),
                name="casematerial_one_free_per_item",
            ),
            models.CheckConstraint(
                condition=(Q(satisfied_by="upload") & ~Q(file="") & ~Q(sm3=""))
                | (Q(satisfied_by__in=["licence", "shared_data"]) & ~Q(source_reference="")),
                name="casematerial_has_content",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.requirement.name if self.requirement_id else self.label


class CaseTask(models.Model):
    """A back-office work item: one stage of the item version for one case (承办/审核/审批).

    Stages of one step (the same ``parallel_group``) get their tasks together; the case moves to the
    next step when all of them are passed.
    """

    class State(models.TextChoices):
        OPEN = "open", _("待签收")
        CLAIMED = "claimed", _("办理中")
        PASSED = "passed", _("已通过")
        RETURNED = "returned", _("已退回")
        CANCELLED = "cancelled", _("已取消")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("办件"))
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("办理环节")
    )
    step = models.PositiveSmallIntegerField(_("步骤"))
    name = models.CharField(_("环节"), max_length=100)
    kind = models.CharField(_("环节类型"), max_length=10, choices=Stage.Kind.choices)
    role = models.CharField(_("办理角色"), max_length=20)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="case_tasks", verbose_name=_("办理部门")
    )
    status = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_tasks",
        verbose_name=_("办理人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    comment = models.TextField(_("意见"), blank=True)
    due_date = models.DateField(_("环节期限"), null=True, blank=True)
    due_provisional = models.BooleanField(_("期限暂定"), default=False)
    region_code = models.CharField(_("区划代码"), max_length=12, db_index=True)

    class Meta:
        verbose_name = _("办理任务")
        verbose_name_plural = verbose_name
        ordering = ["case_id", "step", "id"]
        indexes = [models.Index(fields=["department", "role", "status"]), models.Index(fields=["assignee", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | Q(assignee__isnull=False) | Q(status="cancelled"),
                name="casetask_claimed_has_assignee",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.name}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.State.OPEN, self.State.CLAIMED)


class PauseKind(models.TextChoices):
    CORRECTION = "correction", _("补正")
    HEARING = "hearing", _("听证")
    INSPECTION = "inspection", _("现场勘查")
    TESTING = "testing", _("检验检测")
    QUARANTINE = "quarantine", _("检疫")
    APPRAISAL = "appraisal", _("鉴定")
    EXPERT_REVIEW = "expert_review", _("专家评审")
    OTHER = "other", _("其他特别程序")


SPECIAL_PROCEDURE_KINDS = [k for k in PauseKind if k != PauseKind.CORRECTION]


class ClockPause(models.Model):
    """The decision clock stopped: a correction after acceptance, or a special procedure (行政许可法 art. 45)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses", verbose_name=_("办件"))
    kind = models.CharField(_("类型"), max_length=16, choices=PauseKind.choices)
    reason = models.TextField(_("理由"))
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    result = models.TextField(_("结果"), blank=True)
    applicant_informed_at = models.DateTimeField(_("告知申请人时间"), null=True, blank=True)
    resume_status = models.CharField(_("恢复后状态"), max_length=24, choices=Status.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("开始人"),
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("结束人"),
    )
    region_code = models.CharField(_("区划代码"), max_length=12, db_index=True)

    class Meta:
        verbose_name = _("计时中止")
        verbose_name_plural = verbose_name
        ordering = ["case_id", "started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")), name="pause_ends_after"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.get_kind_display()}"


class Extension(models.Model):
    """延期: up to 10 working days in all, approved by an approver (行政许可法 art. 42)."""

    MAX_DAYS = 10

    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("办件"))
    days = models.PositiveSmallIntegerField(_("延长工作日"))
    reason = models.TextField(_("理由"))
    status = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请延期人")
    )
    requested_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_comment = models.TextField(_("审批意见"), blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, db_index=True)

    class Meta:
        verbose_name = _("延期")
        verbose_name_plural = verbose_name
        ordering = ["case_id", "requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=10), name="extension_days_1_10"),
        ]

    def __str__(self) -> str:
        return f"{self.case} +{self.days}"


class CorrectionRequest(models.Model):
    """补正告知: every problem of one submission round at once (一次性告知); at most one per round.

    ``items``: ``[{"material": <requirement id or null>, "field": "<form field or ''>", "problem": "..."}]``.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="corrections", verbose_name=_("办件"))
    round = models.PositiveSmallIntegerField(_("申报轮次"))
    items = models.JSONField(_("补正内容"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("告知人")
    )
    requested_at = models.DateTimeField(_("告知时间"))
    resolved_at = models.DateTimeField(_("补正完成时间"), null=True, blank=True)
    resume_status = models.CharField(_("恢复后状态"), max_length=24, choices=Status.choices)
    region_code = models.CharField(_("区划代码"), max_length=12, db_index=True)

    class Meta:
        verbose_name = _("补正告知")
        verbose_name_plural = verbose_name
        ordering = ["case_id", "round"]
        constraints = [models.UniqueConstraint(fields=["case", "round"], name="correction_once_per_round")]

    def __str__(self) -> str:
        return _("%(case)s · 第%(n)s轮补正") % {"case": self.case, "n": self.round}


class PaymentOrder(models.Model):
    """非税缴费 order of a case, paid through the configured payment provider."""

    class State(models.TextChoices):
        UNPAID = "unpaid", _("待缴费")
        PAID = "paid", _("已缴费")
        CANCELLED = "cancelled", _("已取消")

    number = models.CharField(_("缴费单号"), max_length=80, unique=True)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="payments", verbose_name=_("办件"))
    amount = models.DecimalField(_("金额（元）"), max_digits=10, decimal_places=2)
    status = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.UNPAID)
    provider = models.CharField(_("支付渠道"), max_length=40, blank=True)
    provider_reference = models.CharField(_("渠道流水号"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    paid_at = models.DateTimeField(_("缴费时间"), null=True, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12, db_index=True)

    class Meta:
        verbose_name = _("缴费单")
        verbose_name_plural = verbose_name
        ordering = ["case_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False), name="payment_paid_has_time"
            ),
            models.UniqueConstraint(fields=["case"], condition=Q(status="unpaid"), name="payment_one_unpaid_per_case"),
        ]

    def __str__(self) -> str:
        return self.number


class Delivery(models.Model):
    """送达: at the window, by post (address + tracking number), or electronically."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="delivery", verbose_name=_("办件"))
    method = models.CharField(_("送达方式"), max_length=12, choices=DeliveryMethod.choices)
    recipient = models.CharField(_("收件人"), max_length=60, blank=True)
    phone = EncryptedTextField(_("联系电话"), max_length=20, blank=True)
    address = EncryptedTextField(_("邮寄地址"), max_length=200, blank=True)
    carrier = models.CharField(_("快递公司"), max_length=40, blank=True)
    tracking_number = models.CharField(_("快递单号"), max_length=60, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"))
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("送达人")
    )
    region_code = models.CharField(_("区划代码"), max_length=12, db_index=True)

    class Meta:
        verbose_name = _("送达")
        verbose_name_plural = verbose_name
        constraints = [
            models.CheckConstraint(
                condition=~Q(method="post") | (~Q(address="") & ~Q(tracking_number="")),
                name="delivery_post_has_address_and_tracking",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.get_method_display()}"


class CaseDocument(models.Model):
    """A notice or decision generated for a case (PDF), stored with its SM3 digest and the department's SM2 seal."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("受理回执")
        REFUSAL = "refusal", _("不予受理通知书")
        CORRECTION = "correction", _("补正告知书")
        SPECIAL_PROCEDURE = "special_procedure", _("特别程序告知书")
        DECISION = "decision", _("决定书")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents", verbose_name=_("办件"))
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    file = models.FileField(_("文件"), max_length=255)
    sm3 = models.CharField(_("SM3摘要"), max_length=64)
    size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    key_id = models.CharField(_("签章密钥"), max_length=16, blank=True)
    signature = models.BinaryField(_("SM2签名"), blank=True, default=b"")
    created_at = models.DateTimeField(_("生成时间"))
    region_code = models.CharField(_("区划代码"), max_length=12, db_index=True)

    class Meta:
        verbose_name = _("办件文书")
        verbose_name_plural = verbose_name
        ordering = ["case_id", "created_at", "id"]

    def __str__(self) -> str:
        return self.title


class CaseNumberSequence(models.Model):
    """The last sequence number used per 实施编码 and day; rows are locked while a number is taken."""

    code = models.CharField(_("实施编码"), max_length=40)
    day = models.DateField(_("日期"))
    last = models.PositiveIntegerField(_("最后序号"), default=0)

    class Meta:
        verbose_name = _("办件编号序列")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["code", "day"], name="casenumber_code_day_unique")]

    def __str__(self) -> str:
        return f"{self.code}{self.day:%Y%m%d} → {self.last}"


class IdempotencyKey(models.Model):
    """A client's ``Idempotency-Key`` for a submission: the same key from the same user gives the same case."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("用户")
    )
    key = models.CharField(_("幂等键"), max_length=200)
    # SM3 of what was submitted under the key: a retry must send the same request, not another one
    fingerprint = models.CharField(_("请求指纹"), max_length=64, blank=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+", verbose_name=_("办件"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    region_code = models.CharField(_("区划代码"), max_length=12, db_index=True)

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")]

    def __str__(self) -> str:
        return self.key
