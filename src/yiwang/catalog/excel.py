"""实施清单 workbooks: import and export of the catalog as Excel (.xlsx).

Three sheets with Chinese headers in row 1: 「事项」 (one row per item: its current version),
「材料」 and 「环节」 (rows that refer to an item by its 实施编码). Enumerations are written as their
Chinese labels and read as label or code; yes/no as 是/否; the application form as JSON.

Import is all-or-nothing. First every cell of every sheet is checked (types, enumerations,
departments, regions, duplicate codes, rows that point at items missing from the 「事项」 sheet);
only if nothing is wrong is each item written through the catalog services (a new item or a new
version, then published), all in one transaction: whatever the services refuse is collected as
well, and then the whole transaction is rolled back. Each error names sheet, row and column, e.g.
「事项」表第5行「法定时限（工作日）」列：应为非负整数。

Blank-form and sample files are not part of the workbook; a new version of an existing item keeps
the files of the current version's material with the same name.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import openpyxl
from django.conf import settings
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from yiwang.core.errors import InvalidInput, TooLarge, YiwangError
from yiwang.core.jsonin import parse_json
from yiwang.core.text import clause
from yiwang.identity.models import Department, Region, StaffRole

from . import selectors, services
from .models import (
    ExerciseLevel,
    Handling,
    ItemType,
    ItemVersion,
    MaterialRequirement,
    OnlineDepth,
    ResultType,
    ServiceItem,
    ServiceObject,
    Stage,
    Theme,
)

ITEMS, MATERIALS, STAGES = "事项", "材料", "环节"
MAX_ROWS = 20000
MAX_UNCOMPRESSED = 200 * 1024 * 1024  # a zip bomb is refused before openpyxl inflates it


class StageRole(models.TextChoices):
    """The roles a stage may name (a subset of identity's StaffRole), with their Chinese labels."""

    WINDOW_CLERK = StaffRole.Role.WINDOW_CLERK.value, StaffRole.Role.WINDOW_CLERK.label
    HANDLER = StaffRole.Role.HANDLER.value, StaffRole.Role.HANDLER.label
    REVIEWER = StaffRole.Role.REVIEWER.value, StaffRole.Role.REVIEWER.label
    APPROVER = StaffRole.Role.APPROVER.value, StaffRole.Role.APPROVER.label


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: str = "text"  # text | int | decimal | bool | choice | json
    required: bool = False
    choices: type[models.Choices] | None = None
    max_length: int | None = None
    optional_header: bool = False  # the column may be missing from an imported sheet


def _len(model: type[models.Model], name: str) -> int | None:
    return getattr(model._meta.get_field(name), "max_length", None)


ITEM_COLUMNS = [
    Column("实施编码", "code", optional_header=True),
    Column("基本编码", "base_code", required=True),
    Column("事项名称", "name", required=True, max_length=_len(ItemVersion, "name")),
    Column("事项类型", "item_type", "choice", True, ItemType),
    Column("行使层级", "exercise_level", "choice", True, ExerciseLevel),
    Column("实施机构统一社会信用代码", "department", required=True),
    Column("实施机构名称", "department_name", optional_header=True),
    Column("行政区划代码", "region"),
    Column("服务对象", "service_object", "choice", True, ServiceObject),
    Column("主题分类", "theme", "choice", True, Theme),
    Column("关键词", "keywords", max_length=_len(ItemVersion, "keywords")),
    Column("设定依据", "legal_basis", required=True),
    Column("受理条件", "conditions", required=True),
    Column("办件类型", "handling", "choice", True, Handling),
    Column("法定时限（工作日）", "statutory_days", "int", True),
    Column("承诺时限（工作日）", "promised_days", "int", True),
    Column("受理时限（工作日）", "acceptance_days", "int", True),
    Column("收费标准（元）", "fee", "decimal", True),
    Column("收费依据", "fee_basis"),
    Column("须缴费后方可办结", "fee_before_completion", "bool", True),
    Column("网上办理深度", "online_depth", "choice", True, OnlineDepth),
    Column("到现场次数", "max_visits", "int", True),
    Column("办理地点", "location", max_length=_len(ItemVersion, "location")),
    Column("办理时间", "hours", max_length=_len(ItemVersion, "hours")),
    Column("咨询电话", "consult_phone", max_length=_len(ItemVersion, "consult_phone")),
    Column("监督投诉电话", "complaint_phone", max_length=_len(ItemVersion, "complaint_phone")),
    Column("办理流程说明", "process_description"),
    Column("办理结果类型", "result_type", "choice", True, ResultType),
    Column("办理结果名称", "result_name", max_length=_len(ItemVersion, "result_name")),
    Column("结果证照类型代码", "result_licence_type", max_length=_len(ItemVersion, "result_licence_type")),
    Column("申请表定义（JSON）", "form_schema", "json"),
]
MATERIAL_COLUMNS = [
    Column("事项实施编码", "item", required=True),
    Column("序号", "order", "int", True),
    Column("材料名称", "name", required=True, max_length=_len(MaterialRequirement, "name")),
    Column("是否必要", "required", "bool", True),
    Column("份数", "copies", "int", True),
    Column("材料形式", "kind", "choice", True, MaterialRequirement.Kind),
    Column("电子格式", "formats", max_length=_len(MaterialRequirement, "formats")),
    Column("来源渠道", "source", "choice", True, MaterialRequirement.Source),
    Column("来源代码", "source_ref", max_length=_len(MaterialRequirement, "source_ref")),
    Column("材料依据", "basis"),
    Column("填报须知", "note"),
]
STAGE_COLUMNS = [
    Column("事项实施编码", "item", required=True),
    Column("顺序", "order", "int", True),
    Column("环节名称", "name", required=True, max_length=_len(Stage, "name")),
    Column("环节类型", "kind", "choice", True, Stage.Kind),
    Column("办理角色", "role", "choice", True, StageRole),
    Column("办理部门统一社会信用代码", "department"),
    Column("时限占比（%）", "time_share", "int", True),
    Column("并联组", "parallel_group", max_length=_len(Stage, "parallel_group")),
]
SHEETS = {ITEMS: ITEM_COLUMNS, MATERIALS: MATERIAL_COLUMNS, STAGES: STAGE_COLUMNS}
# Other spellings accepted on import.
ALIASES = {Stage.Kind: {"审批": Stage.Kind.DECIDE, "决定": Stage.Kind.DECIDE}}


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)  # codes of new items
    updated: list[str] = field(default_factory=list)  # codes of items that got a new version
    materials: int = 0
    stages: int = 0

    @property
    def summary(self) -> str:
        return _("导入完成：新增事项%(c)d项，更新事项%(u)d项，材料%(m)d条，环节%(s)d条，均已发布。") % {
            "c": len(self.created),
            "u": len(self.updated),
            "m": self.materials,
            "s": self.stages,
        }


class CellError(ValueError):
    pass


# --- reading ---------------------------------------------------------------------------------


def _read_bytes(source: bytes | IO[bytes], limit: int) -> bytes:
    data = bytes(source) if isinstance(source, bytes | bytearray) else source.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(
            _("文件超过大小上限（%(m).1f MB），请拆分后分批导入。") % {"m": limit / 1024 / 1024}, field="file"
        )
    return data


def open_workbook(source: bytes | IO[bytes], *, limit: int | None = None) -> openpyxl.Workbook:
    """Open an uploaded workbook after checking it by content (size, zip structure, xlsx parts)."""
    data = _read_bytes(source, limit or settings.YIWANG_MAX_UPLOAD_BYTES)
    not_xlsx = InvalidInput(
        _("文件不是 Excel 工作簿（.xlsx）。请在 Excel 或 WPS 中另存为“Excel 工作簿（*.xlsx）”后再导入。"), field="file"
    )
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InvalidInput(_("这是旧版 Excel 97-2003（.xls）文件，请另存为 .xlsx 格式后再导入。"), field="file")
    if not data.startswith(b"PK\x03\x04"):
        raise not_xlsx
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise not_xlsx from None
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        raise not_xlsx
    if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
        raise InvalidInput(_("工作簿解压后过大，请拆分后分批导入。"), field="file")
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file; all mean the same to the user
        raise InvalidInput(_("工作簿已损坏，无法读取，请检查后重新导出。"), field="file") from None


def _as_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "是" if raw else "否"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime | dt.date):
        return raw.isoformat()
    return str(raw).strip()


def _choice_lookup(choices: type[models.Choices]) -> dict[str, Any]:
    lookup: dict[str, Any] = {}
    for value, label in choices.choices:
        label = str(label)
        lookup[str(value)] = value
        lookup[label] = value
        for part in label.split("："):
            lookup.setdefault(part, value)
    for alias, value in ALIASES.get(choices, {}).items():
        lookup[alias] = value
    return lookup


def _parse(column: Column, raw: Any) -> Any:
    text = _as_text(raw)
    if column.kind == "text":
        if column.required and not text:
            raise CellError(_("不能为空"))
        if column.max_length and len(text) > column.max_length:
            raise CellError(_("不能超过%(n)d个字（当前%(m)d个）") % {"n": column.max_length, "m": len(text)})
        return text
    if not text:
        if column.required:
            raise CellError(_("不能为空"))
        return [] if column.kind == "json" else None
    if column.kind == "int":
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or number != number.to_integral_value() or number < 0 or number > 32767:
            raise CellError(_("应为非负整数"))
        return int(number)
    if column.kind == "decimal":
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:
            raise CellError(_("应为不小于0的金额，最多两位小数"))
        if amount >= Decimal("100000000"):
            raise CellError(_("金额过大"))
        return amount
    if column.kind == "bool":
        if text in {"是", "Y", "y", "TRUE", "True", "true", "1"}:
            return True
        if text in {"否", "N", "n", "FALSE", "False", "false", "0"}:
            return False
        raise CellError(_("应为「是」或「否」"))
    if column.kind == "choice":
        lookup = _choice_lookup(column.choices)
        if text not in lookup:
            labels = "、".join(str(label) for label in column.choices.labels)
            raise CellError(_("「%(v)s」不是有效值，可选：%(c)s") % {"v": text, "c": labels})
        return lookup[text]
    if column.kind == "json":
        try:
            return parse_json(text, label=_("该值"))
        except InvalidInput as exc:
            raise CellError(clause(exc.message)) from None
    raise AssertionError(column.kind)


def parse_value(column: Column, raw: Any) -> Any:
    """One value of ``column`` read as its workbook cell is read (the demo files too); CellError if bad."""
    return _parse(column, raw)


@dataclass
class _Row:
    sheet: str
    number: int
    values: dict[str, Any]

    def where(self, header: str | None = None) -> str:
        if header:
            return _("「%(s)s」表第%(r)d行「%(h)s」列") % {"s": self.sheet, "r": self.number, "h": header}
        return _("「%(s)s」表第%(r)d行") % {"s": self.sheet, "r": self.number}


class _Errors(list):
    def add(self, row: _Row, header: str | None, message: str) -> None:
        self.append(f"{row.where(header)}：{message}。")


def _read_sheet(book: openpyxl.Workbook, sheet: str, errors: list[str]) -> list[_Row]:
    """Rows of one sheet as dicts keyed by field; cell errors are added to ``errors``."""
    if sheet not in book.sheetnames:
        errors.append(_("工作簿缺少工作表「%(s)s」。") % {"s": sheet})
        return []
    columns = SHEETS[sheet]
    rows = book[sheet].iter_rows(values_only=True)
    header = next(rows, None) or ()
    positions = {_as_text(h): i for i, h in enumerate(header) if _as_text(h)}
    missing = [c.header for c in columns if c.header not in positions and not c.optional_header]
    if missing:
        errors.append(
            _("「%(s)s」表第1行缺少以下列：%(c)s。") % {"s": sheet, "c": "、".join(f"「{m}」" for m in missing)}
        )
        return []
    result: list[_Row] = []
    for number, cells in enumerate(rows, start=2):
        if not any(_as_text(c) for c in cells):
            continue  # blank lines are allowed anywhere
        if len(result) >= MAX_ROWS:
            errors.append(_("「%(s)s」表超过%(n)d行，请拆分后分批导入。") % {"s": sheet, "n": MAX_ROWS})
            break
        row = _Row(sheet, number, {})
        for column in columns:
            index = positions.get(column.header)
            raw = cells[index] if index is not None and index < len(cells) else None
            try:
                row.values[column.field] = _parse(column, raw)
            except CellError as exc:
                errors.append(f"{row.where(column.header)}：{exc}。")
                row.values[column.field] = None
        result.append(row)
    return result


HEADER = {sheet: {c.field: c.header for c in columns} for sheet, columns in SHEETS.items()}


def _check(book: openpyxl.Workbook) -> tuple[list[str], list[_Row], dict[str, list[_Row]], dict[str, list[_Row]]]:
    """Check every cell and every reference; return (errors, item rows, materials and stages by code)."""
    errors = _Errors()
    items = _read_sheet(book, ITEMS, errors)
    materials = _read_sheet(book, MATERIALS, errors)
    stages = _read_sheet(book, STAGES, errors)
    h = HEADER[ITEMS]

    credit_codes = {r.values["department"] for r in items} | {r.values["department"] for r in stages}
    departments = {d.credit_code: d for d in Department.objects.filter(credit_code__in=credit_codes - {None, ""})}
    regions = set(Region.objects.filter(code__in={r.values["region"] for r in items}).values_list("code", flat=True))

    by_code: dict[str, _Row] = {}
    # Codes written in the sheet, valid or not: rows of other sheets that refer to an item whose own
    # row has an error are not reported a second time.
    in_sheet = {(r.values["code"] or "").upper() for r in items}
    for row in items:
        v = row.values
        department_ok = bool(v["department"]) and v["department"] in departments
        if v["department"] and not department_ok:
            errors.add(row, h["department"], _("没有统一社会信用代码为 %(c)s 的部门") % {"c": v["department"]})
        if v["region"] and v["region"] not in regions:
            errors.add(row, h["region"], _("没有区划代码为 %(c)s 的行政区划") % {"c": v["region"]})
        base = (v["base_code"] or "").upper()
        if base and not services.BASE_CODE_RE.match(base):
            errors.add(row, h["base_code"], _("应为12位数字或大写字母（当前%(n)d位）") % {"n": len(base)})
            continue
        if not (base and department_ok and v["exercise_level"]):
            continue
        code = services.implementation_code(v["department"], v["exercise_level"], base)
        in_sheet.add(code)
        if v["code"] and v["code"].upper() != code:
            errors.add(
                row,
                h["code"],
                _("与「实施机构统一社会信用代码」+「行使层级」+「基本编码」不一致，应为 %(c)s") % {"c": code},
            )
            continue
        if code in by_code:
            errors.add(row, h["code"], _("实施编码 %(c)s 与第%(r)d行重复") % {"c": code, "r": by_code[code].number})
            continue
        v["code"], v["base_code"] = code, base
        by_code[code] = row
    if by_code:
        for code, draft_number in (
            ItemVersion.objects.filter(item__code__in=by_code, status=ItemVersion.Status.DRAFT)
            .values_list("item__code", "number")
            .order_by()
        ):
            errors.add(
                by_code[code],
                None,
                _("事项 %(c)s 已有草稿版本（第%(n)d版），请先发布或删除该草稿再导入") % {"c": code, "n": draft_number},
            )

    def group(rows: list[_Row], sheet: str) -> dict[str, list[_Row]]:
        grouped: dict[str, list[_Row]] = {}
        seen: dict[tuple[str, str], int] = {}
        for row in rows:
            code = (row.values["item"] or "").upper()
            if code not in by_code:
                if code and code not in in_sheet:
                    errors.add(row, HEADER[sheet]["item"], _("事项 %(c)s 不在「事项」表中") % {"c": code})
                continue
            key = (code, row.values["name"])
            if row.values["name"] and key in seen:
                errors.add(
                    row,
                    HEADER[sheet]["name"],
                    _("「%(n)s」与第%(r)d行重复") % {"n": row.values["name"], "r": seen[key]},
                )
            seen[key] = row.number
            grouped.setdefault(code, []).append(row)
        return grouped

    materials_by_code = group(materials, MATERIALS)
    stages_by_code = group(stages, STAGES)
    for row in stages:
        credit_code = row.values["department"]
        if credit_code and credit_code not in departments:
            errors.add(row, HEADER[STAGES]["department"], _("没有统一社会信用代码为 %(c)s 的部门") % {"c": credit_code})
        else:
            row.values["department"] = departments.get(credit_code)
    for row in items:
        row.values["department"] = departments.get(row.values["department"])
    return errors, list(by_code.values()), materials_by_code, stages_by_code


VERSION_KEYS = [c.field for c in ITEM_COLUMNS if c.field in services.VERSION_FIELDS]


@transaction.atomic
def import_workbook(
    source: bytes | IO[bytes], *, actor: Any = None, effective_from: dt.date | None = None
) -> ImportResult:
    """Import a 实施清单 workbook: every row checked first, then all items published, or nothing.

    Raises InvalidInput (``errors`` = the list of Chinese messages) or TooLarge; on success every item
    of the 「事项」 sheet has a new published version in force from ``effective_from`` (default today).
    """
    services.check_actor(actor)
    with translation.override("zh-hans"):
        book = open_workbook(source)
        try:
            errors, items, materials, stages = _check(book)
        finally:
            book.close()
        if errors:
            raise _failed(errors)
        result = ImportResult()
        existing = {i.code: i for i in ServiceItem.objects.filter(code__in=[r.values["code"] for r in items])}
        for row in items:
            v = row.values
            try:
                with transaction.atomic():
                    item = existing.get(v["code"])
                    files = _current_files(item)
                    if item is None:
                        item = services.create_item(
                            base_code=v["base_code"],
                            department=v["department"],
                            exercise_level=v["exercise_level"],
                            region=Region.objects.get(pk=v["region"]) if v["region"] else None,
                            actor=actor,
                        )
                        result.created.append(item.code)
                    else:
                        result.updated.append(item.code)
                    draft = services.create_draft(
                        item,
                        actor=actor,
                        materials=[
                            {
                                **{k: m.values[k] for k in services.MATERIAL_FIELDS if k in m.values},
                                **files.get(m.values["name"], {}),
                            }
                            for m in sorted(materials.get(v["code"], []), key=lambda r: r.values["order"])
                        ],
                        stages=[
                            {k: s.values[k] for k in services.STAGE_FIELDS}
                            for s in sorted(stages.get(v["code"], []), key=lambda r: r.values["order"])
                        ],
                        **{k: v[k] for k in VERSION_KEYS},
                    )
                    services.publish(draft, actor=actor, effective_from=effective_from)
                    result.materials += len(materials.get(v["code"], []))
                    result.stages += len(stages.get(v["code"], []))
            except YiwangError as exc:
                errors.append(f"{row.where()}（{v['name']}）：{exc.message}")
        if errors:
            raise _failed(errors)  # rolls back every item written above
    return result


def _current_files(item: ServiceItem | None) -> dict[str, dict[str, str]]:
    """Blank forms and samples of the current version's materials, by material name."""
    version = item.current_version if item else None
    if version is None:
        return {}
    return {
        m.name: {"blank_form": m.blank_form.name, "sample": m.sample.name}
        for m in version.materials.all()
        if m.blank_form or m.sample
    }


def _failed(errors: list[str]) -> InvalidInput:
    shown = errors[:20]
    more = len(errors) - len(shown)
    message = _("工作簿有%(n)d处错误，未导入任何数据：") % {"n": len(errors)} + "".join(shown)
    if more:
        message += _("……另有%(m)d处，见完整列表。") % {"m": more}
    return InvalidInput(message, field="file", errors=errors)


# --- writing ---------------------------------------------------------------------------------


def _cell(column: Column, value: Any) -> Any:
    if column.kind == "choice":
        return str(column.choices(value).label) if value not in (None, "") else None
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else None
    if column.kind == "decimal":
        if value is None:
            return None
        amount = Decimal(value)
        return int(amount) if amount == amount.to_integral_value() else float(amount)
    if isinstance(value, str):
        return value or None
    return value


def _item_values(version: ItemVersion) -> dict[str, Any]:
    item = version.item
    values = {name: getattr(version, name) for name in VERSION_KEYS}
    values.update(
        code=item.code,
        base_code=item.base_code,
        department=item.department.credit_code,
        department_name=item.department.name,
        region=item.region_id,
    )
    return values


def export_workbook(versions: Iterable[ItemVersion] | None = None) -> bytes:
    """The catalog (by default every item's current version, by code) as a 实施清单 workbook."""
    if versions is None:
        versions = selectors.current_versions().order_by("item__code")
    versions = (
        ItemVersion.objects.filter(pk__in=[v.pk for v in versions])
        .select_related("item__department", "item__region")
        .prefetch_related("materials", "stages__department")
        .order_by("item__code", "number")
    )
    with translation.override("zh-hans"):
        book = openpyxl.Workbook()
        book.remove(book.active)
        sheets = {name: _new_sheet(book, name) for name in SHEETS}
        for version in versions:
            values = _item_values(version)
            sheets[ITEMS].append([_cell(c, values[c.field]) for c in ITEM_COLUMNS])
            for m in version.materials.all():
                row = {"item": version.item.code, **{n: getattr(m, n) for n in services.MATERIAL_FIELDS}}
                sheets[MATERIALS].append([_cell(c, row[c.field]) for c in MATERIAL_COLUMNS])
            for s in version.stages.all():
                row = {n: getattr(s, n) for n in services.STAGE_FIELDS}
                row.update(item=version.item.code, department=s.department.credit_code if s.department else None)
                sheets[STAGES].append([_cell(c, row[c.field]) for c in STAGE_COLUMNS])
        out = io.BytesIO()
        book.save(out)
    return out.getvalue()


def _new_sheet(book: openpyxl.Workbook, name: str):
    sheet = book.create_sheet(name)
    columns = SHEETS[name]
    sheet.append([c.header for c in columns])
    fill = PatternFill("solid", fgColor="F3F2F1")
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="B71C1C" if column.required else "000000")
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        width = 34 if column.field in ("code", "legal_basis", "conditions", "form_schema") else 16
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    return sheet
