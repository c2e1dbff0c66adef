"""Catalog use cases: the only code that changes items, versions, materials and stages.

Every function runs in one transaction, locks the item row first (``select_for_update``) so that
concurrent editors of one item are serialised, and appends its audit event to the item's chain.
Business errors are raised as ``yiwang.core.errors`` exceptions with Chinese messages.

Life of a version: ``create_draft`` / ``new_draft_from`` → ``update_draft`` (any number of times) →
``publish`` (frozen from then on) → ``retire``. An item has at most one draft at a time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core import audit
from yiwang.core.errors import Conflict, InvalidInput
from yiwang.core.ids import normalize, validate_uscc
from yiwang.identity.models import Department, Region, StaffRole

from ..forms_schema import validate_schema
from ..models import (
    ExerciseLevel,
    ItemVersion,
    MaterialRequirement,
    OnlineDepth,
    ResultType,
    ServiceItem,
    Stage,
)
from . import search
from .access import ROLE, check_actor

BASE_CODE_RE = re.compile(r"^[0-9A-Z]{12}$")
LICENCE_TYPE_CODE_RE = re.compile(r"^[0-9A-Z]{21}$")
STAGE_ROLES = (
    StaffRole.Role.WINDOW_CLERK.value,
    StaffRole.Role.HANDLER.value,
    StaffRole.Role.REVIEWER.value,
    StaffRole.Role.APPROVER.value,
)
# The elements a catalog manager edits on a draft (everything but identity and lifecycle).
VERSION_FIELDS = tuple(
    f.name
    for f in ItemVersion._meta.concrete_fields
    if f.name not in ItemVersion.LIFECYCLE_FIELDS and f.name not in ("item", "number", "effective_from")
)
MATERIAL_FIELDS = (
    "order",
    "name",
    "required",
    "copies",
    "kind",
    "formats",
    "basis",
    "note",
    "source",
    "source_ref",
    "blank_form",
    "sample",
)
STAGE_FIELDS = ("order", "name", "kind", "role", "department", "time_share", "parallel_group")


# --- helpers ---------------------------------------------------------------------------------


def implementation_code(credit_code: str, exercise_level: str, base_code: str) -> str:
    """实施编码 = 实施机构统一社会信用代码 (18) + 行使层级 (1) + 基本编码 (12) = 31 characters."""
    return f"{credit_code}{exercise_level}{base_code}"


def _lock_item(item_id: int) -> ServiceItem:
    return ServiceItem.objects.select_for_update().select_related("department", "region").get(pk=item_id)


def _lock_version(version: ItemVersion) -> tuple[ServiceItem, ItemVersion]:
    """Lock the item, then read the version afresh (its status may have changed since it was read)."""
    item = _lock_item(version.item_id)
    fresh = ItemVersion.objects.select_for_update().get(pk=version.pk)
    return item, fresh


def _require_draft(version: ItemVersion) -> None:
    if version.status != ItemVersion.Status.DRAFT:
        raise Conflict(
            _("%(name)s 第%(n)d版的状态为「%(s)s」，不可修改；如需调整，请基于该版本新建草稿版本。")
            % {"name": version.name, "n": version.number, "s": version.get_status_display()}
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, Department):
        return value.credit_code
    return value


def snapshot(version: ItemVersion) -> dict[str, Any]:
    """The version's content as plain data: for audit events (before/after) and comparisons."""
    data = {name: _jsonable(getattr(version, name)) for name in VERSION_FIELDS}
    data["effective_from"] = version.effective_from
    data["materials"] = [
        {name: _jsonable(getattr(m, name)) for name in MATERIAL_FIELDS} for m in version.materials.all()
    ]
    data["stages"] = [
        {name: _jsonable(getattr(s, name)) for name in STAGE_FIELDS}
        for s in version.stages.select_related("department")
    ]
    return data


def _changes(before: dict, after: dict) -> dict[str, dict[str, Any]]:
    return {k: {"before": before.get(k), "after": after[k]} for k in after if before.get(k) != after[k]}


def _full_clean(obj, *, exclude: list[str], prefix: str = "") -> None:
    """Model field validation, turned into InvalidInput naming each field in Chinese."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        labels: list[str] = []
        for name, problems in exc.message_dict.items():
            message = "".join(problems)
            errors[f"{prefix}{name}"] = message
            try:
                label = str(obj._meta.get_field(name).verbose_name)
            except FieldDoesNotExist:  # a non-field error (__all__)
                label = ""
            labels.append(_("「%(l)s」%(e)s") % {"l": label, "e": message} if label else message)
        raise InvalidInput(_("输入有误：%(e)s") % {"e": _("；").join(labels)}, errors=errors) from None


def check_consistency(version: ItemVersion, item: ServiceItem) -> None:
    """Rules that hold for every saved version, draft or not."""
    errors: dict[str, str] = {}
    level = item.code[18]
    if version.exercise_level != level:
        errors["exercise_level"] = _("行使层级须与实施编码一致（%(l)s）。") % {"l": ExerciseLevel(level).label}
    if (
        version.promised_days is not None
        and version.statutory_days is not None
        and version.promised_days > version.statutory_days
    ):
        errors["promised_days"] = _("承诺办结时限（%(p)d个工作日）不得超过法定办结时限（%(s)d个工作日）。") % {
            "p": version.promised_days,
            "s": version.statutory_days,
        }
    if version.result_licence_type and not LICENCE_TYPE_CODE_RE.match(version.result_licence_type):
        errors["result_licence_type"] = _("证照类型代码应为21位数字或大写字母。")
    try:
        validate_schema(version.form_schema)
    except InvalidInput as exc:
        errors["form_schema"] = exc.message
    if errors:
        raise InvalidInput(_("事项版本有误：%(e)s") % {"e": "；".join(errors.values())}, errors=errors)


def completeness_errors(version: ItemVersion) -> dict[str, str]:
    """What stops ``version`` from being published (empty when it may be published)."""
    errors: dict[str, str] = {}
    for name in ("name", "legal_basis", "conditions", "location"):
        if not str(getattr(version, name) or "").strip():
            errors[name] = _("请填写「%(f)s」。") % {"f": ItemVersion._meta.get_field(name).verbose_name}
    if version.promised_days > version.statutory_days:
        errors["promised_days"] = _("承诺办结时限不得超过法定办结时限。")
    if version.max_visits == 0 and version.online_depth != OnlineDepth.FULLY_ONLINE:
        errors["max_visits"] = _("零跑动（到现场0次）的事项须为四级全程网办。")
    if version.result_type == ResultType.LICENCE and not LICENCE_TYPE_CODE_RE.match(version.result_licence_type):
        errors["result_licence_type"] = _("办理结果为证照时，须填写21位证照类型代码。")
    if version.result_type != ResultType.NONE and not version.result_name.strip():
        errors["result_name"] = _("请填写办理结果名称。")
    try:
        validate_schema(version.form_schema)
    except InvalidInput as exc:
        errors["form_schema"] = exc.message

    stages = list(version.stages.all())
    if not stages:
        errors["stages"] = _("至少须有一个办理环节。")
    else:
        problems = []
        if not any(s.kind == Stage.Kind.DECIDE for s in stages):
            problems.append(_("须有一个审批/决定环节"))
        last = max(s.order for s in stages)
        if not any(s.kind == Stage.Kind.DECIDE and s.order == last for s in stages):
            problems.append(_("最后一个环节应为审批/决定"))
        by_order: dict[int, list[Stage]] = defaultdict(list)
        by_group: dict[str, set[int]] = defaultdict(set)
        for s in stages:
            by_order[s.order].append(s)
            if s.parallel_group:
                by_group[s.parallel_group].add(s.order)
            if s.role not in STAGE_ROLES:
                problems.append(_("环节「%(s)s」的办理角色无效") % {"s": s.name})
        for order, group in sorted(by_order.items()):
            if len(group) > 1 and (not group[0].parallel_group or len({s.parallel_group for s in group}) > 1):
                problems.append(_("顺序%(o)d有多个环节，须属于同一并联组") % {"o": order})
        for name, orders in by_group.items():
            if len(orders) > 1:
                problems.append(_("并联组「%(g)s」的环节须在同一顺序") % {"g": name})
        share = sum(max(s.time_share for s in group) for group in by_order.values())
        if share > 100:
            problems.append(_("各环节时限占比合计%(n)d%%，超过100%%") % {"n": share})
        if problems:
            errors["stages"] = "；".join(problems) + "。"

    problems = []
    names: set[str] = set()
    for m in version.materials.all():
        if m.name in names:
            problems.append(_("材料「%(m)s」重复") % {"m": m.name})
        names.add(m.name)
        if m.copies < 1:
            problems.append(_("材料「%(m)s」份数至少为1") % {"m": m.name})
        if m.source == MaterialRequirement.Source.LICENCE and not LICENCE_TYPE_CODE_RE.match(m.source_ref):
            problems.append(_("材料「%(m)s」来源为电子证照，须填写21位证照类型代码") % {"m": m.name})
        if m.source == MaterialRequirement.Source.SHARED_DATA and not m.source_ref.strip():
            problems.append(_("材料「%(m)s」来源为共享数据，须填写数据资源代码") % {"m": m.name})
    if problems:
        errors["materials"] = "；".join(problems) + "。"
    return errors


def _apply_fields(version: ItemVersion, fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(VERSION_FIELDS))
    if unknown:
        raise InvalidInput(_("不能设置这些字段：%(f)s。") % {"f": "、".join(unknown)}, errors={k: "" for k in unknown})
    for name, value in fields.items():
        setattr(version, name, value)


def _replace_parts(version: ItemVersion, materials: list[dict] | None, stages: list[dict] | None) -> None:
    if materials is not None:
        version.materials.all().delete()
        for index, data in enumerate(materials, start=1):
            _create_part(MaterialRequirement, version, {"order": index, **data}, MATERIAL_FIELDS, f"materials.{index}.")
    if stages is not None:
        version.stages.all().delete()
        for index, data in enumerate(stages, start=1):
            _create_part(Stage, version, {"order": index, **data}, STAGE_FIELDS, f"stages.{index}.")


def _create_part(model, version: ItemVersion, data: dict, allowed: tuple[str, ...], prefix: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(_("不能设置这些字段：%(f)s。") % {"f": "、".join(unknown)})
    obj = model(version=version, **data)
    _full_clean(obj, exclude=["version"], prefix=prefix)
    obj.save()


# --- use cases -------------------------------------------------------------------------------


def create_item(
    *,
    base_code: str,
    department: Department,
    exercise_level: str,
    region: Region | None = None,
    actor: Any = None,
) -> ServiceItem:
    """Register a new item; its 实施编码 is built from the department's credit code, the level and the
    12-character 基本编码. The item has no version until ``create_draft``."""
    check_actor(actor)
    base = normalize(base_code)
    if not BASE_CODE_RE.match(base):
        raise InvalidInput(
            _("基本编码应为12位数字或大写字母，当前为「%(c)s」（%(n)d位）。") % {"c": base, "n": len(base)},
            field="base_code",
        )
    if exercise_level not in ExerciseLevel.values:
        raise InvalidInput(_("行使层级无效：%(l)s。") % {"l": exercise_level}, field="exercise_level")
    validate_uscc(department.credit_code, field="department")
    code = implementation_code(department.credit_code, exercise_level, base)
    try:
        with transaction.atomic():
            item = ServiceItem.objects.create(
                code=code, base_code=base, department=department, region=region or department.region
            )
            audit.record(
                item,
                "catalog.item.created",
                actor=actor,
                role=ROLE,
                data={"after": {"code": code, "department": department.credit_code, "region": item.region_id}},
            )
    except IntegrityError:
        raise Conflict(_("实施编码 %(c)s 的事项已存在。") % {"c": code}, field="base_code") from None
    return item


@transaction.atomic
def create_draft(
    item: ServiceItem,
    *,
    actor: Any = None,
    materials: list[dict] | None = None,
    stages: list[dict] | None = None,
    **fields: Any,
) -> ItemVersion:
    """A new draft version of ``item`` with the given elements (and optionally its materials and stages)."""
    check_actor(actor)
    item = _lock_item(item.pk)
    _refuse_second_draft(item)
    fields.setdefault("exercise_level", item.code[18])
    number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ItemVersion(item=item, number=number, status=ItemVersion.Status.DRAFT)
    _apply_fields(version, fields)
    _full_clean(version, exclude=["item", "number"])
    check_consistency(version, item)
    version.save()
    _replace_parts(version, materials, stages)
    audit.record(
        item,
        "catalog.version.draft_created",
        actor=actor,
        role=ROLE,
        data={"version": number, "after": snapshot(version)},
    )
    return version


def _refuse_second_draft(item: ServiceItem) -> None:
    draft = item.versions.filter(status=ItemVersion.Status.DRAFT).first()
    if draft is not None:
        raise Conflict(_("该事项已有草稿版本（第%(n)d版），请先编辑、发布或删除该草稿。") % {"n": draft.number})


@transaction.atomic
def new_draft_from(version: ItemVersion, *, actor: Any = None) -> ItemVersion:
    """Copy a published (or retired) version, with its materials, stages and form, into a new draft."""
    check_actor(actor)
    item, source = _lock_version(version)
    if source.status == ItemVersion.Status.DRAFT:
        raise Conflict(_("第%(n)d版本身就是草稿，可直接编辑。") % {"n": source.number})
    _refuse_second_draft(item)
    number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = ItemVersion(item=item, number=number, status=ItemVersion.Status.DRAFT)
    for name in VERSION_FIELDS:
        setattr(draft, name, getattr(source, name))
    draft.save()
    for m in source.materials.all():
        MaterialRequirement.objects.create(version=draft, **{n: getattr(m, n) for n in MATERIAL_FIELDS})
    for s in source.stages.all():
        Stage.objects.create(version=draft, **{n: getattr(s, n) for n in STAGE_FIELDS})
    audit.record(
        item,
        "catalog.version.draft_created",
        actor=actor,
        role=ROLE,
        data={"version": number, "copied_from": source.number},
    )
    return draft


@transaction.atomic
def update_draft(
    version: ItemVersion,
    *,
    actor: Any = None,
    materials: list[dict] | None = None,
    stages: list[dict] | None = None,
    **fields: Any,
) -> ItemVersion:
    """Change a draft's elements; ``materials``/``stages``, when given, replace the existing lists."""
    check_actor(actor)
    item, fresh = _lock_version(version)
    _require_draft(fresh)
    before = snapshot(fresh)
    _apply_fields(fresh, fields)
    _full_clean(fresh, exclude=["item", "number"])
    check_consistency(fresh, item)
    fresh.save()
    _replace_parts(fresh, materials, stages)
    changes = _changes(before, snapshot(fresh))
    if changes:
        audit.record(
            item, "catalog.version.updated", actor=actor, role=ROLE, data={"version": fresh.number, "changes": changes}
        )
    return fresh


@transaction.atomic
def save_part(part: MaterialRequirement | Stage, *, actor: Any = None) -> MaterialRequirement | Stage:
    """Add or change one material or stage of a draft (the admin's inline rows come through here)."""
    check_actor(actor)
    item, version = _lock_version(part.version)
    _require_draft(version)
    kind = "material" if isinstance(part, MaterialRequirement) else "stage"
    fields = MATERIAL_FIELDS if kind == "material" else STAGE_FIELDS
    before = None
    if part.pk is not None:
        stored = type(part).objects.filter(pk=part.pk).first()
        before = {n: _jsonable(getattr(stored, n)) for n in fields} if stored else None
    _full_clean(part, exclude=["version"])
    part.save()
    after = {n: _jsonable(getattr(part, n)) for n in fields}
    audit.record(
        item,
        f"catalog.{kind}.saved",
        actor=actor,
        role=ROLE,
        data={"version": version.number, "before": before, "after": after},
    )
    return part


@transaction.atomic
def delete_part(part: MaterialRequirement | Stage, *, actor: Any = None) -> None:
    """Remove one material or stage from a draft."""
    check_actor(actor)
    item, version = _lock_version(part.version)
    _require_draft(version)
    kind = "material" if isinstance(part, MaterialRequirement) else "stage"
    data = {"version": version.number, "before": {"name": part.name, "order": part.order}}
    part.delete()
    audit.record(item, f"catalog.{kind}.deleted", actor=actor, role=ROLE, data=data)


@transaction.atomic
def delete_draft(version: ItemVersion, *, actor: Any = None) -> None:
    """Throw a draft away (published versions are kept for ever: cases refer to them)."""
    check_actor(actor)
    item, fresh = _lock_version(version)
    _require_draft(fresh)
    number = fresh.number
    fresh.delete()
    audit.record(item, "catalog.version.draft_deleted", actor=actor, role=ROLE, data={"version": number})


@transaction.atomic
def publish(version: ItemVersion, *, actor: Any = None, effective_from: dt.date | None = None) -> ItemVersion:
    """Publish a complete draft, in force from ``effective_from`` (default today). From now on the
    version, its materials, stages and form never change."""
    check_actor(actor)
    item, fresh = _lock_version(version)
    _require_draft(fresh)
    today = timezone.localdate()
    effective = effective_from or today
    if effective < today:
        raise InvalidInput(
            _("生效日期不能早于今天（%(d)s）：已受理的办件按当时的版本办理。") % {"d": today.isoformat()},
            field="effective_from",
        )
    latest = (
        item.versions.filter(status=ItemVersion.Status.PUBLISHED)
        .exclude(pk=fresh.pk)
        .aggregate(d=Max("effective_from"))["d"]
    )
    if latest and effective < latest:
        raise InvalidInput(
            _("生效日期不能早于已发布版本的生效日期（%(d)s）。") % {"d": latest.isoformat()}, field="effective_from"
        )
    check_consistency(fresh, item)
    errors = completeness_errors(fresh)
    if errors:
        raise InvalidInput(
            _("第%(n)d版还不能发布：%(e)s") % {"n": fresh.number, "e": "；".join(errors.values())}, errors=errors
        )
    fresh.status = ItemVersion.Status.PUBLISHED
    fresh.effective_from = effective
    fresh.published_at = timezone.now()
    fresh.save()
    # the version in force until now hands over on the new one's first day
    previous = (
        item.versions.select_for_update()
        .filter(status=ItemVersion.Status.PUBLISHED, valid_until__isnull=True)
        .exclude(pk=fresh.pk)
        .order_by("-effective_from", "-number")
        .first()
    )
    if previous is not None:
        previous.valid_until = effective
        previous.save(update_fields=["valid_until", "updated_at"])
    search.index_version(fresh)
    if previous is not None and effective <= today:
        search.unindex_version([previous])
    audit.record(
        item,
        "catalog.version.published",
        actor=actor,
        role=ROLE,
        data={"version": fresh.number, "effective_from": effective, "after": snapshot(fresh)},
    )
    return fresh


@transaction.atomic
def retire(version: ItemVersion, *, actor: Any = None) -> ItemVersion:
    """Stop offering a published version. Earlier published versions are retired with it, so that an
    older version never comes back into force; versions scheduled for later are kept."""
    check_actor(actor)
    item, fresh = _lock_version(version)
    if fresh.status != ItemVersion.Status.PUBLISHED:
        raise Conflict(
            _("只有已发布的版本可以停用（第%(n)d版当前为%(s)s）。")
            % {"n": fresh.number, "s": fresh.get_status_display()}
        )
    now = timezone.now()
    retired, retired_ids = [], []
    earlier = item.versions.select_for_update().filter(
        status=ItemVersion.Status.PUBLISHED, effective_from__lte=fresh.effective_from, number__lte=fresh.number
    )
    for v in earlier.order_by("number"):
        v.status = ItemVersion.Status.RETIRED
        v.retired_at = now
        v.save()
        retired.append(v.number)
        retired_ids.append(v.pk)
    search.unindex_version(retired_ids)
    fresh.refresh_from_db()
    audit.record(item, "catalog.version.retired", actor=actor, role=ROLE, data={"versions": retired})
    return fresh
