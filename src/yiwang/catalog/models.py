"""The standardized service-item catalog (GB/T 39046-2020 elements).

``ServiceItem`` is the stable identity of an item (its 实施编码); ``ItemVersion`` carries every
element and is effective-dated. A published version never changes: editing makes a new draft, and a
case keeps the exact version it was filed under.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import models
from django.db.models import Lookup
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yiwang.core.errors import Conflict
from yiwang.identity.models import Department, Region, StaffRole

from .text import clean


class PublishedVersionImmutable(Conflict):
    """A write to a published (or retired) version, its materials or its stages."""


def _immutable() -> PublishedVersionImmutable:
    return PublishedVersionImmutable(gettext("已发布的事项版本不可修改；如需调整，请基于该版本新建草稿版本。"))


class ItemType(models.TextChoices):
    LICENSING = "01", _("行政许可")
    PENALTY = "02", _("行政处罚")
    ENFORCEMENT = "03", _("行政强制")
    LEVY = "04", _("行政征收")
    BENEFIT = "05", _("行政给付")
    INSPECTION = "06", _("行政检查")
    CONFIRMATION = "07", _("行政确认")
    REWARD = "08", _("行政奖励")
    RULING = "09", _("行政裁决")
    OTHER_POWER = "10", _("其他行政权力")
    PUBLIC_SERVICE = "20", _("公共服务")


class ExerciseLevel(models.TextChoices):
    NATIONAL = "1", _("国家级")
    PROVINCE = "2", _("省级")
    CITY = "3", _("市级")
    COUNTY = "4", _("县级")
    TOWNSHIP = "5", _("镇（乡、街道）级")
    VILLAGE = "6", _("村（社区）级")
    GRADED = "7", _("分级管理")


class Handling(models.TextChoices):
    IMMEDIATE = "1", _("即办件")
    PROMISED = "2", _("承诺件")
    OTHER = "9", _("其他")


class ServiceObject(models.TextChoices):
    PERSON = "person", _("自然人")
    ORGANISATION = "organisation", _("法人")
    BOTH = "both", _("自然人、法人")


class OnlineDepth(models.IntegerChoices):
    INFORMATION = 1, _("一级：网上咨询")
    DOWNLOAD = 2, _("二级：下载表格")
    PRE_REVIEW = 3, _("三级：网上预审受理")
    FULLY_ONLINE = 4, _("四级：全程网办")


class Theme(models.TextChoices):
    MARKET = "market", _("市场准入")
    FOOD = "food", _("食品药品")
    HEALTH = "health", _("医疗卫生")
    HOUSEHOLD = "household", _("户籍办理")
    MARRIAGE = "marriage", _("婚姻登记")
    SOCIAL_SECURITY = "social_security", _("社会保障")
    EMPLOYMENT = "employment", _("就业创业")
    CIVIL_AFFAIRS = "civil_affairs", _("民政服务")
    CONSTRUCTION = "construction", _("工程建设")
    TRANSPORT = "transport", _("交通出行")
    HOUSING_FUND = "housing_fund", _("住房公积金")
    TAX = "tax", _("税费办理")
    EDUCATION = "education", _("教育科研")
    OTHER = "other", _("其他")


class ResultType(models.TextChoices):
    NONE = "none", _("无")
    DOCUMENT = "document", _("批文/决定书")
    LICENCE = "licence", _("证照")


class ServiceItem(models.Model):
    """The identity of an item across its versions: 实施编码 = 实施主体信用代码 + 行使层级 + 基本编码."""

    code = models.CharField(_("实施编码"), max_length=31, unique=True)
    base_code = models.CharField(_("基本编码"), max_length=12, db_index=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="items", verbose_name=_("实施机构")
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="items", verbose_name=_("行政区划"))
    # a cheap popularity counter for ranking search results (guide page views), never a COUNT at query time
    popularity = models.PositiveIntegerField(_("浏览次数"), default=0, editable=False)
    # the popularity last copied onto the search index rows (``services.search.sync_popularity``)
    indexed_popularity = models.PositiveIntegerField(_("已索引浏览次数"), default=0, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("政务服务事项")
        verbose_name_plural = verbose_name
        ordering = ["code"]

    def __str__(self) -> str:
        current = self.current_version
        return f"{current.name if current else self.code}"

    @property
    def region_code(self) -> str:
        return self.region_id

    @property
    def current_version(self) -> ItemVersion | None:
        """The published version in force now (see ``ItemVersion.in_force``)."""
        return self.versions.filter(ItemVersion.in_force()).order_by("-effective_from", "-number").first()


class ItemVersion(models.Model):
    """实施清单: the item as implemented, effective from a date. Immutable once published."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        RETIRED = "retired", _("已停用")

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="versions", verbose_name=_("事项"))
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField(_("生效日期"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    # the day a later published version takes over (set when that one is published): with it, "in force
    # today" is a condition on the row itself, which an index answers, not a subquery per item
    valid_until = models.DateField(_("被新版本取代日期"), null=True, blank=True, editable=False)

    name = models.CharField(_("事项名称"), max_length=200)
    item_type = models.CharField(_("事项类型"), max_length=2, choices=ItemType.choices)
    exercise_level = models.CharField(_("行使层级"), max_length=1, choices=ExerciseLevel.choices)
    service_object = models.CharField(_("服务对象"), max_length=12, choices=ServiceObject.choices)
    theme = models.CharField(_("主题分类"), max_length=20, choices=Theme.choices, default=Theme.OTHER)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True, help_text=_("以空格或逗号分隔"))
    legal_basis = models.TextField(_("设定依据"))
    conditions = models.TextField(_("受理条件"))
    handling = models.CharField(_("办件类型"), max_length=1, choices=Handling.choices)
    statutory_days = models.PositiveSmallIntegerField(_("法定办结时限（工作日）"))
    promised_days = models.PositiveSmallIntegerField(_("承诺办结时限（工作日）"))
    acceptance_days = models.PositiveSmallIntegerField(_("受理时限（工作日）"), default=5)
    fee = models.DecimalField(_("收费标准（元）"), max_digits=10, decimal_places=2, default=0)
    fee_basis = models.TextField(_("收费依据"), blank=True)
    fee_before_completion = models.BooleanField(_("须缴费后方可办结"), default=True)
    online_depth = models.PositiveSmallIntegerField(_("网上办理深度"), choices=OnlineDepth.choices)
    max_visits = models.PositiveSmallIntegerField(_("到现场次数"), default=1)
    location = models.CharField(_("办理地点"), max_length=200, blank=True)
    hours = models.CharField(_("办理时间"), max_length=200, blank=True)
    consult_phone = models.CharField(_("咨询电话"), max_length=40, blank=True)
    complaint_phone = models.CharField(_("监督投诉电话"), max_length=40, blank=True)
    process_description = models.TextField(_("办理流程说明"), blank=True)
    form_schema = models.JSONField(
        _("申请表定义"),
        default=list,
        blank=True,
        help_text=_('字段列表：[{"name": "shop_name", "label": "店铺名称", "type": "text", "required": true}]'),
    )
    result_type = models.CharField(
        _("办理结果类型"), max_length=10, choices=ResultType.choices, default=ResultType.NONE
    )
    result_name = models.CharField(_("办理结果名称"), max_length=100, blank=True)
    result_licence_type = models.CharField(
        _("结果证照类型代码"), max_length=21, blank=True, help_text=_("结果为证照时，证照类型代码")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("事项版本（实施清单）")
        verbose_name_plural = verbose_name
        ordering = ["item_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="itemversion_number_unique")]
        indexes = [models.Index(fields=["status", "effective_from", "valid_until"], name="itemversion_in_force")]

    # Fields that may still change once a version is published: retiring it, or a later version
    # taking over from a date.
    LIFECYCLE_FIELDS = ("id", "status", "published_at", "retired_at", "valid_until", "updated_at", "created_at")

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        """Refuse any change to a published version except retiring it (services check first; this is
        the last line of defence for code that bypasses them)."""
        if self.pk is not None:
            fields = self.content_attnames()
            stored = type(self).objects.filter(pk=self.pk).values("status", *fields).first()
            if stored is not None and stored["status"] != self.Status.DRAFT:
                changed = [f for f in fields if stored[f] != getattr(self, f)]
                allowed = stored["status"] == self.status or (
                    stored["status"] == self.Status.PUBLISHED and self.status == self.Status.RETIRED
                )
                if changed or not allowed:
                    raise _immutable()
        super().save(*args, **kwargs)

    @staticmethod
    def in_force(day: dt.date | None = None, prefix: str = "") -> models.Q:
        """The condition "in force on ``day``" (default today): published, effective, not yet taken over.
        ``prefix`` applies it through a relation (``"version__"``)."""
        day = day or timezone.localdate()
        return models.Q(**{f"{prefix}status": ItemVersion.Status.PUBLISHED, f"{prefix}effective_from__lte": day}) & (
            models.Q(**{f"{prefix}valid_until__isnull": True}) | models.Q(**{f"{prefix}valid_until__gt": day})
        )

    @property
    def is_published(self) -> bool:
        return self.status != self.Status.DRAFT

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @classmethod
    def content_attnames(cls) -> list[str]:
        return [f.attname for f in cls._meta.concrete_fields if f.name not in cls.LIFECYCLE_FIELDS]


class VersionPartMixin:
    """Materials and stages belong to their version: frozen with it once it is published."""

    def _check_version_is_draft(self) -> None:
        version_ids = {self.version_id}
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("version_id", flat=True).first()
            if stored is not None:
                version_ids.add(stored)
        statuses = ItemVersion.objects.filter(pk__in=version_ids).values_list("status", flat=True)
        if any(status != ItemVersion.Status.DRAFT for status in statuses):
            raise _immutable()

    def save(self, *args, **kwargs) -> None:
        self._check_version_is_draft()
        super().save(*args, **kwargs)


class MaterialRequirement(VersionPartMixin, models.Model):
    """申请材料."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("原件")
        COPY = "copy", _("复印件")
        BOTH = "both", _("原件和复印件")
        ELECTRONIC = "electronic", _("电子件")

    class Source(models.TextChoices):
        APPLICANT = "applicant", _("申请人自备")
        LICENCE = "licence", _("电子证照")
        SHARED_DATA = "shared_data", _("共享数据")
        DEPARTMENT = "department", _("部门核发/生成")

    version = models.ForeignKey(
        ItemVersion, on_delete=models.CASCADE, related_name="materials", verbose_name=_("事项版本")
    )
    order = models.PositiveSmallIntegerField(_("序号"), default=1)
    name = models.CharField(_("材料名称"), max_length=200)
    required = models.BooleanField(_("必要"), default=True)
    copies = models.PositiveSmallIntegerField(_("份数"), default=1)
    kind = models.CharField(_("材料形式"), max_length=12, choices=Kind.choices, default=Kind.ORIGINAL)
    formats = models.CharField(_("电子格式"), max_length=100, default="pdf,jpg,png")
    basis = models.TextField(_("材料依据"), blank=True)
    note = models.TextField(_("填报须知"), blank=True)
    source = models.CharField(_("来源渠道"), max_length=12, choices=Source.choices, default=Source.APPLICANT)
    source_ref = models.CharField(
        _("来源代码"), max_length=40, blank=True, help_text=_("证照类型代码或共享数据资源代码")
    )
    blank_form = models.FileField(_("空白表格"), upload_to="catalog/forms/", blank=True)
    sample = models.FileField(_("示例样表"), upload_to="catalog/samples/", blank=True)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = verbose_name
        ordering = ["version_id", "order", "id"]

    def __str__(self) -> str:
        return self.name


class Stage(VersionPartMixin, models.Model):
    """办理环节: ordered back-office steps. Stages sharing ``parallel_group`` (at the same order) run at once."""

    class Kind(models.TextChoices):
        HANDLE = "handle", _("承办")
        REVIEW = "review", _("审核")
        DECIDE = "decide", _("审批/决定")

    version = models.ForeignKey(
        ItemVersion, on_delete=models.CASCADE, related_name="stages", verbose_name=_("事项版本")
    )
    order = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("环节名称"), max_length=100)
    kind = models.CharField(_("环节类型"), max_length=10, choices=Kind.choices)
    role = models.CharField(_("办理角色"), max_length=20, choices=StaffRole.Role.choices)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("办理部门"),
        null=True,
        blank=True,
        help_text=_("留空表示事项实施机构"),
    )
    time_share = models.PositiveSmallIntegerField(_("时限占比（%）"), default=0)
    parallel_group = models.CharField(_("并联组"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = verbose_name
        ordering = ["version_id", "order", "id"]

    def __str__(self) -> str:
        return self.name


@receiver(pre_delete, sender=ItemVersion)
def _refuse_deleting_published_version(sender, instance: ItemVersion, **kwargs) -> None:
    # pre_delete also runs for queryset and cascading deletes, unlike Model.delete()
    stored = ItemVersion.objects.filter(pk=instance.pk).values_list("status", flat=True).first()
    if stored is not None and stored != ItemVersion.Status.DRAFT:
        raise _immutable()


@receiver(pre_delete, sender=MaterialRequirement)
@receiver(pre_delete, sender=Stage)
def _refuse_deleting_published_part(sender, instance, **kwargs) -> None:
    instance._check_version_is_draft()


# --- search -------------------------------------------------------------------------------------


class Prefix(Lookup):
    """``field__prefix="abc"``: the values starting with "abc", answered by a btree index on both
    databases. PostgreSQL: ``LIKE 'abc%'``, which needs the ``varchar_pattern_ops`` index under a
    non-C collation; SQLite: a range, since its LIKE ignores a BINARY index."""

    lookup_name = "prefix"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        value = str(self.rhs)
        return f"({lhs} >= %s AND {lhs} < %s)", [*params, value, *params, value + "\U0010ffff"]

    def as_postgresql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} LIKE %s", [*params, connection.ops.prep_for_like_query(str(self.rhs)) + "%"]


class SearchTerm(models.Model):
    """One word under which a published version is found, with its weight (name > keywords > department
    and theme > conditions). Written only by ``services.search``; rebuilt by ``yiwang reindex-catalog``.

    What a search filters and ranks on is copied from the version onto the row (its dates, filter fields,
    item and department), so that a search reads this table alone over one index and joins the versions
    only for the page it shows. ``services.search`` keeps the copies in step (publishing a successor
    sets ``valid_until`` here too)."""

    term = models.CharField(_("词条"), max_length=50)
    version = models.ForeignKey(
        ItemVersion, on_delete=models.CASCADE, related_name="search_terms", verbose_name=_("事项版本")
    )
    weight = models.PositiveSmallIntegerField(_("权重"))
    region_code = models.CharField(
        _("区划代码"), max_length=12
    )  # the item's region: the sharding key at province scale
    # copies of the version's fields ("in force today" and the search filters)
    effective_from = models.DateField(_("生效日期"), null=True)
    valid_until = models.DateField(_("被新版本取代日期"), null=True)
    item = models.ForeignKey(
        ServiceItem, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("事项")
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("实施机构")
    )
    service_object = models.CharField(_("服务对象"), max_length=12)
    theme = models.CharField(_("主题分类"), max_length=20)
    item_type = models.CharField(_("事项类型"), max_length=2)
    handling = models.CharField(_("办件类型"), max_length=1)
    online_depth = models.PositiveSmallIntegerField(_("网上办理深度"))
    max_visits = models.PositiveSmallIntegerField(_("到现场次数"))
    # the item's guide views (``ServiceItem.popularity``), copied here by the periodic
    # ``sync_popularity``: equally relevant matches are ranked by it without reading the items
    popularity = models.PositiveIntegerField(_("浏览次数"), default=0)

    class Meta:
        verbose_name = _("搜索词条")
        verbose_name_plural = verbose_name
        indexes = [
            # covering: a search without filters reads only this index (term, then the score and "in force")
            models.Index(
                fields=["term", "version", "weight", "popularity", "effective_from", "valid_until"],
                name="searchterm_lookup",
            ),
        ]

    def __str__(self) -> str:
        return self.term


class SearchWord(models.Model):
    """The vocabulary: every word in the index once, with its pinyin, so that a query in Latin letters
    and a misspelt query ("did you mean") are looked up in a small indexed table, not in the items."""

    word = models.CharField(_("词"), max_length=50, unique=True)
    pinyin = models.CharField(_("拼音"), max_length=200)
    initials = models.CharField(_("拼音首字母"), max_length=50)
    # how many indexed versions have the word: a search over several words starts from the rarest
    versions = models.PositiveIntegerField(_("事项版本数"), default=0)

    class Meta:
        verbose_name = _("搜索词汇")
        verbose_name_plural = verbose_name
        indexes = [
            models.Index(fields=["word"], opclasses=["varchar_pattern_ops"], name="searchword_word_prefix"),
            models.Index(fields=["pinyin"], opclasses=["varchar_pattern_ops"], name="searchword_pinyin_prefix"),
            models.Index(fields=["initials"], opclasses=["varchar_pattern_ops"], name="searchword_initials_prefix"),
        ]

    def __str__(self) -> str:
        return self.word


for _field in ("word", "pinyin", "initials"):
    SearchWord._meta.get_field(_field).register_lookup(Prefix)


class Synonym(models.Model):
    """同义词: what people type (开饭店) and the catalog's words for it (餐饮 饭店 餐馆), applied at query
    time. Edited by catalog managers in the admin, through ``services.search`` (audited)."""

    phrase = models.CharField(_("搜索词"), max_length=50, unique=True, help_text=_("群众输入的说法，如：开饭店"))
    words = models.CharField(
        _("同义词"), max_length=200, help_text=_("目录中的说法，以空格或逗号分隔，如：餐饮 饭店 餐馆")
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = verbose_name
        ordering = ["phrase"]

    def __str__(self) -> str:
        return f"{self.phrase} → {self.words}"

    def word_list(self) -> list[str]:
        seen: list[str] = []
        for part in re.split(r"[\s,，、;；]+", self.words or ""):
            word = clean(part)
            if word and word not in seen and word != self.phrase:
                seen.append(word)
        return seen
