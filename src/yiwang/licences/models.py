"""The electronic licence library (电子证照库).

A ``Licence`` row is one *version* of a licence: changing or renewing a licence issues a new version
(a new 证照标识 with the next 3-digit version) and marks the previous one superseded. Everything that
identifies and describes a version (GB/T 36903 metadata + 照面信息) is sealed: the canonical payload
that was signed is kept (encrypted, it carries the holder's ID number) next to its SM3 hash and the
SM2 signature, so that any later edit of a row is detectable and nameable. ``status`` is the only
live part and is deliberately outside the signature.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedTextField
from yiwang.identity.models import Department, LegalPerson, NaturalPerson

TYPE_CODE_RE = re.compile(r"^[0-9A-Z]{21}$")
FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def validate_type_code(value: str) -> None:
    if not TYPE_CODE_RE.match(value or ""):
        raise ValidationError(_("证照类型代码应为21位数字或大写字母。"))


class HolderKind(models.TextChoices):
    PERSON = "person", _("自然人")
    ORGANISATION = "organisation", _("法人及其他组织")
    ANY = "any", _("自然人或法人")  # e.g. 食品经营许可证: an individual business or a company


class HolderCodeType(models.TextChoices):
    """持证主体代码类型 (GB/T 36903)."""

    CITIZEN_ID = "111", _("居民身份证")
    USCC = "001", _("统一社会信用代码")


class LicenceType(models.Model):
    """证照类型 / 证照目录 entry: what a licence of this type carries and who holds it."""

    code = models.CharField(_("证照类型代码"), max_length=21, unique=True, validators=[validate_type_code])
    name = models.CharField(_("证照名称"), max_length=100)
    issuer_kind = models.CharField(
        _("颁发部门类别"), max_length=100, blank=True, help_text=_("如：市场监督管理部门、民政部门")
    )
    holder_kind = models.CharField(_("持证主体类别"), max_length=12, choices=HolderKind.choices)
    validity_years = models.PositiveSmallIntegerField(
        _("有效期（年）"), null=True, blank=True, help_text=_("留空表示长期有效")
    )
    number_prefix = models.CharField(
        _("证照编号前缀"), max_length=8, blank=True, help_text=_("如 JY；编号 = 前缀 + 颁发机构区划代码 + 7位流水号")
    )
    fields = models.JSONField(
        _("照面信息字段"),
        default=list,
        blank=True,
        help_text=_('字段列表：[{"name": "shop_name", "label": "经营者名称", "required": true}]；name 为申请表字段名'),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("证照类型")
        verbose_name_plural = verbose_name
        ordering = ["code"]

    def __str__(self) -> str:
        return _("%(name)s（%(code)s）") % {"name": self.name, "code": self.code}

    def clean(self) -> None:
        errors = []
        if not isinstance(self.fields, list):
            errors.append(_("照面信息字段应为列表。"))
        else:
            names = set()
            for spec in self.fields:
                if not isinstance(spec, dict) or not FIELD_NAME_RE.match(str(spec.get("name", ""))):
                    errors.append(_("每个字段须有 name（小写字母开头，字母数字下划线）。"))
                elif not spec.get("label"):
                    errors.append(_("字段 %(name)s 缺少 label。") % {"name": spec["name"]})
                elif spec["name"] in names:
                    errors.append(_("字段 %(name)s 重复。") % {"name": spec["name"]})
                else:
                    names.add(spec["name"])
        if errors:
            raise ValidationError({"fields": errors})

    @property
    def holder_code_types(self) -> tuple[str, ...]:
        """The holder code types a licence of this type may carry."""
        return {
            HolderKind.PERSON: (HolderCodeType.CITIZEN_ID,),
            HolderKind.ORGANISATION: (HolderCodeType.USCC,),
        }.get(self.holder_kind, (HolderCodeType.CITIZEN_ID, HolderCodeType.USCC))

    def field_labels(self) -> dict[str, str]:
        return {spec["name"]: spec["label"] for spec in self.fields}


class LicenceCounter(models.Model):
    """The last serial used per licence type in one region (the issuer's): locked while serials are
    allocated, so that concurrent issuing never repeats a 证照编号 or a 证照标识. Keyed by region, not
    by department, so that it shards with the region like every big table."""

    licence_type = models.ForeignKey(
        LicenceType, on_delete=models.CASCADE, related_name="+", verbose_name=_("证照类型")
    )
    region_code = models.CharField(_("区划代码"), max_length=12)
    last_serial = models.PositiveIntegerField(_("最后流水号"), default=0)

    class Meta:
        verbose_name = _("证照流水号计数器")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["licence_type", "region_code"], name="licencecounter_unique")]

    def __str__(self) -> str:
        return f"{self.licence_type_id}/{self.region_code}: {self.last_serial}"


class Licence(models.Model):
    """One version of an electronic licence (电子证照) with its GB/T 36903 metadata and SM2 seal."""

    class Status(models.TextChoices):
        VALID = "valid", _("有效")
        EXPIRED = "expired", _("已过期")
        SUSPENDED = "suspended", _("已暂扣")
        REVOKED = "revoked", _("已撤销")
        SUPERSEDED = "superseded", _("已换发新版本")

    class Origin(models.TextChoices):
        CASE = "case", _("办件同步签发")
        MANUAL = "manual", _("部门签发")
        IMPORT = "import", _("存量入库")
        CHANGE = "change", _("变更")
        RENEWAL = "renewal", _("延续")

    identifier = models.CharField(_("证照标识"), max_length=80, unique=True)
    licence_type = models.ForeignKey(
        LicenceType, on_delete=models.PROTECT, related_name="licences", verbose_name=_("证照类型")
    )
    name = models.CharField(_("证照名称"), max_length=100)
    type_code = models.CharField(_("证照类型代码"), max_length=21)
    number = models.CharField(_("证照编号"), max_length=64)
    serial = models.PositiveIntegerField(_("流水号"))
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    issuer = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("颁发机构"))
    issuer_name = models.CharField(_("颁发机构"), max_length=100)
    issuer_code = models.CharField(_("颁发机构代码"), max_length=18)
    issue_date = models.DateField(_("颁发日期"))
    holder_name = models.CharField(_("持证主体"), max_length=120)
    holder_code = EncryptedTextField(_("持证主体代码"))
    holder_code_type = models.CharField(_("持证主体代码类型"), max_length=3, choices=HolderCodeType.choices)
    # keyed SM3 of the holder code (= NaturalPerson.id_digest for a person): the wallet's lookup key
    holder_digest = models.CharField(_("持证主体索引"), max_length=64, db_index=True, editable=False)
    holder_masked = models.CharField(_("持证主体代码（脱敏）"), max_length=24, editable=False)
    holder_person = models.ForeignKey(
        NaturalPerson,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="licences",
        verbose_name=_("持证自然人"),
    )
    holder_org = models.ForeignKey(
        LegalPerson,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="licences",
        verbose_name=_("持证法人"),
    )
    valid_from = models.DateField(_("有效期起始"))
    valid_until = models.DateField(_("有效期截止"), null=True, blank=True, help_text=_("留空表示长期有效"))
    region_code = models.CharField(_("管辖属地"), max_length=12, db_index=True)
    data = models.JSONField(_("照面信息"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.VALID)
    status_reason = models.CharField(_("状态原因"), max_length=500, blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    origin = models.CharField(_("来源"), max_length=10, choices=Origin.choices)
    # the seal
    key_id = models.CharField(_("签名密钥标识"), max_length=16)
    signed_at = models.DateTimeField(_("签发时间"))
    signature = models.BinaryField(_("签名（DER）"))
    payload = EncryptedTextField(_("签名原文"))
    payload_hash = models.CharField(_("签名原文 SM3"), max_length=64)
    # the case that led to it (cases.Case id; the cases app is downstream-free, so no FK here)
    case_id = models.BigIntegerField(_("来源办件"), null=True, blank=True, db_index=True)
    case_number = models.CharField(_("来源办件编号"), max_length=64, blank=True)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version", verbose_name=_("上一版本")
    )
    expiry_reminded_at = models.DateTimeField(_("到期提醒时间"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = verbose_name
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["licence_type", "number", "version"], name="licence_number_unique"),
            models.UniqueConstraint(
                fields=["licence_type", "issuer", "serial", "version"], name="licence_serial_unique"
            ),
            # 同步签发 is idempotent: one first version per case
            models.UniqueConstraint(fields=["case_id"], condition=Q(version=1), name="licence_case_unique"),
        ]
        indexes = [models.Index(fields=["status", "valid_until"]), models.Index(fields=["holder_digest", "status"])]

    def __str__(self) -> str:
        return f"{self.name} {self.number}"

    @property
    def version_code(self) -> str:
        return f"{self.version:03d}"

    @property
    def is_current(self) -> bool:
        return self.status != self.Status.SUPERSEDED

    @property
    def status_tag(self) -> str:
        """CSS tag class for the status."""
        return {self.Status.VALID: "ok", self.Status.EXPIRED: "warn", self.Status.SUSPENDED: "warn"}.get(
            self.status, "danger"
        )


class LicenceUse(models.Model):
    """用证: the holder's consent that a department may use the licence for one case (purpose)."""

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="uses", verbose_name=_("证照"))
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("使用部门"))
    case_id = models.BigIntegerField(_("办件"), null=True, blank=True)
    case_number = models.CharField(_("办件编号"), max_length=64, blank=True)
    material_name = models.CharField(_("用于材料"), max_length=200, blank=True)
    purpose = models.CharField(_("用途"), max_length=200)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("授权人")
    )
    granted_at = models.DateTimeField(_("授权时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("用证授权")
        verbose_name_plural = verbose_name
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["department", "licence"])]

    def __str__(self) -> str:
        return f"{self.licence} → {self.case_number}"


class ImportBatch(models.Model):
    """One file of historical licences (存量入库), keyed by the SM3 of its content so that running the
    same file again resumes where it stopped instead of importing twice."""

    class Status(models.TextChoices):
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")

    file_name = models.CharField(_("文件名"), max_length=255)
    file_sm3 = models.CharField(_("文件 SM3"), max_length=64, unique=True)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    imported = models.PositiveIntegerField(_("已导入"), default=0)
    rejected = models.PositiveIntegerField(_("已拒绝"), default=0)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    actor = models.CharField(_("操作人"), max_length=150, blank=True)
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("证照导入批次")
        verbose_name_plural = verbose_name
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.file_name


class ImportRow(models.Model):
    """The outcome of one data row of an import file (row numbers as in the file: the header is row 1)."""

    class Outcome(models.TextChoices):
        IMPORTED = "imported", _("已导入")
        REJECTED = "rejected", _("已拒绝")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows", verbose_name=_("导入批次"))
    row_number = models.PositiveIntegerField(_("行号"))
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    number = models.CharField(_("证照编号"), max_length=64, blank=True)
    licence = models.ForeignKey(
        Licence, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("证照")
    )
    reason = models.TextField(_("原因"), blank=True)

    class Meta:
        verbose_name = _("证照导入行")
        verbose_name_plural = verbose_name
        ordering = ["batch_id", "row_number"]
        constraints = [models.UniqueConstraint(fields=["batch", "row_number"], name="importrow_unique")]

    def __str__(self) -> str:
        return f"{self.batch} #{self.row_number}"
