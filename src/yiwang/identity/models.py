from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedTextField
from yiwang.core.ids import mask_citizen_id, mask_phone, normalize
from yiwang.core.sm import blind_index


def phone_digest(phone: str) -> str:
    """The keyed digest that finds an encrypted phone number by equality ("" for none)."""
    return blind_index(phone, purpose="phone") if phone else ""


class Region(models.Model):
    """行政区划 (GB/T 2260 for 省/市/县; 9/12 digits for 乡镇/村)."""

    class Level(models.IntegerChoices):
        PROVINCE = 2, _("省")
        CITY = 3, _("市")
        COUNTY = 4, _("县")
        TOWNSHIP = 5, _("乡镇")
        VILLAGE = 6, _("村")

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=60)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级区划")
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = verbose_name
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """部门 / 实施机构."""

    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("行政区划"), related_name="departments")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("上级部门"), related_name="children"
    )
    address = models.CharField(_("办公地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = verbose_name
        ordering = ["region_id", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def region_code(self) -> str:
        return self.region_id


class User(AbstractUser):
    """Every account: staff and citizens. Citizens log in with phone or ID number (see backends)."""

    # SM4-encrypted at rest; login and registration find the number by its keyed digest
    phone = EncryptedTextField(_("手机号码"), max_length=20, blank=True)
    phone_digest = models.CharField(_("手机号码索引"), max_length=64, blank=True, db_index=True, editable=False)
    display_name = models.CharField(_("姓名"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.display_name or self.username

    def save(self, *args, **kwargs) -> None:
        self.phone_digest = phone_digest(self.phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "phone" in update_fields:
            kwargs["update_fields"] = {*update_fields, "phone_digest"}
        super().save(*args, **kwargs)


class StaffRole(models.Model):
    """A staff member's role in one department."""

    class Role(models.TextChoices):
        WINDOW_CLERK = "window_clerk", _("综窗受理员")
        HANDLER = "handler", _("承办人")
        REVIEWER = "reviewer", _("审核人")
        APPROVER = "approver", _("审批人")
        SUPERVISOR = "supervisor", _("监督员")
        CATALOG_MANAGER = "catalog_manager", _("事项管理员")
        ADMINISTRATOR = "administrator", _("系统管理员")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_roles", verbose_name=_("用户"))
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="staff_roles", verbose_name=_("部门")
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("岗位角色")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["user", "department", "role"], name="staffrole_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.department} · {self.get_role_display()}"


class NaturalPerson(models.Model):
    """自然人. The ID number, phone and address are SM4-encrypted at rest; ``id_digest`` (keyed SM3)
    finds the ID number by equality (the person's phone is never looked up: the account's is)."""

    name = models.CharField(_("姓名"), max_length=60)
    id_number = EncryptedTextField(_("公民身份号码"))
    id_digest = models.CharField(_("身份号码索引"), max_length=64, unique=True, editable=False)
    id_last4 = models.CharField(_("身份号码后四位"), max_length=4, editable=False)
    phone = EncryptedTextField(_("手机号码"), max_length=20, blank=True)
    address = EncryptedTextField(_("联系地址"), max_length=200, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("户籍地"))
    user = models.OneToOneField(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="person", verbose_name=_("账号")
    )
    assurance_level = models.PositiveSmallIntegerField(_("实名认证等级"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("自然人")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return _("%(name)s（%(code)s）") % {"name": self.name, "code": self.masked_id}

    def save(self, *args, **kwargs) -> None:
        # the lookup digest and the last four characters always follow the (normalised) number
        self.id_number = normalize(self.id_number or "")
        self.id_digest = blind_index(self.id_number)
        self.id_last4 = self.id_number[-4:]
        super().save(*args, **kwargs)

    @property
    def masked_id(self) -> str:
        return mask_citizen_id(self.id_number or "")

    @property
    def region_code(self) -> str:
        return self.region_id or ""


class LegalPerson(models.Model):
    """法人及其他组织, identified by the unified social credit code."""

    name = models.CharField(_("名称"), max_length=120)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=60, blank=True)
    address = EncryptedTextField(_("住所"), max_length=200, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("登记地"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("法人")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.name

    @property
    def region_code(self) -> str:
        return self.region_id or ""


class AgentAuthorization(models.Model):
    """经办人: person X may act for organisation Y (optionally until a date)."""

    person = models.ForeignKey(
        NaturalPerson, on_delete=models.CASCADE, related_name="agencies", verbose_name=_("经办人")
    )
    organisation = models.ForeignKey(
        LegalPerson, on_delete=models.CASCADE, related_name="agents", verbose_name=_("单位")
    )
    valid_from = models.DateField(_("授权起始"), null=True, blank=True)
    valid_until = models.DateField(_("授权截止"), null=True, blank=True)

    class Meta:
        verbose_name = _("经办人授权")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["person", "organisation"], name="agent_unique")]

    def __str__(self) -> str:
        return f"{self.person.name} → {self.organisation.name}"


class PasswordResetCode(models.Model):
    """An SMS code to set a new password (忘记密码). One row per request, whether or not the number has
    an account (``user`` empty then, nothing sent): the rate limits then treat both alike. Only the
    code's keyed digest is kept."""

    phone = EncryptedTextField(_("手机号码"), max_length=20)
    phone_digest = models.CharField(_("手机号码索引"), max_length=64, editable=False)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("用户")
    )
    code_digest = models.CharField(_("验证码摘要"), max_length=64)
    created_at = models.DateTimeField(_("创建时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    failed_attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("密码重置验证码")
        verbose_name_plural = verbose_name
        # the newest codes of one number: the rate limit and the check read only these
        indexes = [models.Index(fields=["phone_digest", "created_at"], name="resetcode_phone_created")]

    def __str__(self) -> str:
        return mask_phone(self.phone)

    def save(self, *args, **kwargs) -> None:
        self.phone_digest = phone_digest(self.phone)
        super().save(*args, **kwargs)
