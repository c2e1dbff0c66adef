"""The demo data files of this folder, read and checked (``loader.py`` loads them through the services).

The files (UTF-8 YAML with Chinese keys; the comment on top of each says what it holds):

- ``region.yaml``: 行政区划, 部门, 工作人员 and 后台办理人员, 个人, 法人 (and the accounts' password);
- ``common.yaml``: 通用材料 and 通用字段 that items name instead of repeating them;
- ``items/*.yaml``: the 事项, in file-name order; keys are the 实施清单 workbook's column headers and
  values are read as the workbook reads them (a Chinese label or the code, 是/否, numbers);
- ``licences.yaml``: 证照类型, the licences the demo citizens hold, and the CSV of historical licences.

Every file is read and checked before anything is written; each error names the file and the entry,
e.g. 「items/01-market.yaml 第2个事项（食品经营许可（新办））「法定时限（工作日）」：应为非负整数。」,
and ``read`` raises one DemoDataError with all of them.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from yiwang.catalog import excel
from yiwang.core.errors import YiwangError
from yiwang.core.ids import validate_citizen_id, validate_uscc
from yiwang.identity import services as identity_services
from yiwang.identity.models import Region, StaffRole
from yiwang.licences.models import HolderKind

DATA_DIR = Path(__file__).resolve().parent
OFFICE_ROLES = {"承办人": StaffRole.Role.HANDLER, "审核人": StaffRole.Role.REVIEWER, "审批人": StaffRole.Role.APPROVER}
Column = excel.Column


class DemoDataError(Exception):
    """The demo files are wrong: every error, each naming its file and entry. Nothing was loaded."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:30])
        more = f"\n  ……另有{len(errors) - 30}处" if len(errors) > 30 else ""
        super().__init__(f"演示数据有{len(errors)}处错误，未载入：\n{shown}{more}")


# --- reading and checking -----------------------------------------------------------------------


@dataclass
class DemoData:
    """What the files say. Entries are namespaces whose attributes are the columns' field names."""

    password: str = ""
    regions: list[SimpleNamespace] = field(default_factory=list)
    windows: dict[str, str] = field(default_factory=dict)  # region → its 综合受理窗口
    defaults: dict[str, str] = field(default_factory=dict)  # hours and phones of items that name none
    departments: dict[str, SimpleNamespace] = field(default_factory=dict)  # by key (代号)
    staff: list[SimpleNamespace] = field(default_factory=list)
    offices: list[str] = field(default_factory=list)  # departments with back-office staff, in order
    citizens: list[SimpleNamespace] = field(default_factory=list)
    organisations: list[SimpleNamespace] = field(default_factory=list)
    items: list[SimpleNamespace] = field(default_factory=list)  # one per implementing department
    licence_types: list[dict[str, Any]] = field(default_factory=list)
    held: list[SimpleNamespace] = field(default_factory=list)
    history: Path | None = None

    def citizen(self, name: str) -> SimpleNamespace:
        return next(c for c in self.citizens if c.name == name)


def _col(header: str, name: str, kind: str = "text", required: bool = False, choices=None) -> Column:
    return Column(header, name, kind, required, choices)


REGION = [
    _col("区划代码", "code", required=True),
    _col("名称", "name", required=True),
    _col("层级", "level", "choice", True, Region.Level),
    _col("上级", "parent"),
]
DEPARTMENT = [
    _col("代号", "key", required=True),
    _col("名称", "name", required=True),
    _col("简称", "short_name"),
    _col("统一社会信用代码", "credit_code", required=True),
    _col("行政区划", "region", required=True),
    _col("上级部门", "parent"),
    _col("办公地址", "address"),
    _col("联系电话", "phone"),
]
STAFF = [
    _col("账号", "username", required=True),
    _col("姓名", "display_name", required=True),
    _col("角色", "role", "choice", True, StaffRole.Role),
    _col("部门", "department", required=True),
]
OFFICE = [_col("部门", "department", required=True)] + [
    _col(label, role, required=True) for label, role in OFFICE_ROLES.items()
]
CITIZEN = [
    _col("姓名", "name", required=True),
    _col("手机号码", "phone", required=True),
    _col("公民身份号码", "id_number", required=True),
    _col("户籍地", "region", required=True),
    _col("联系地址", "address"),
    _col("实名认证等级", "assurance_level", "int", True),
]
ORGANISATION = [
    _col("名称", "name", required=True),
    _col("统一社会信用代码", "uscc", required=True),
    _col("法定代表人", "legal_representative"),
    _col("住所", "address"),
    _col("登记地", "region"),
    _col("经办人", "agent"),
]
OPTIONAL_ITEM_KEYS = {
    "收费标准（元）",
    "收费依据",
    "须缴费后方可办结",
    "办理地点",
    "办理时间",
    "咨询电话",
    "监督投诉电话",
}
ITEM = (
    [_col("实施机构", "departments", "list", True)]
    + [
        replace(c, required=c.required and c.header not in OPTIONAL_ITEM_KEYS)
        for c in excel.ITEM_COLUMNS
        if c.header
        not in {"实施编码", "实施机构统一社会信用代码", "实施机构名称", "行政区划代码", "申请表定义（JSON）"}
    ]
    + [_col(h, n, "list", True) for h, n in (("申请材料", "materials"), ("办理环节", "stages"), ("申请表", "form"))]
)
MATERIAL = [
    replace(c, required=c.header == "材料名称")
    for c in excel.MATERIAL_COLUMNS
    if c.header not in {"事项实施编码", "序号"}
]
STAGE = [
    replace(c, required=c.header in {"环节名称", "环节类型", "办理角色", "时限占比（%）"})
    for c in excel.STAGE_COLUMNS
    if c.header not in {"事项实施编码", "办理部门统一社会信用代码"}
]
STAGE_KEYS = STAGE + [_col("办理部门", "department")]
LICENCE_TYPE = [
    _col("证照类型代码", "code", required=True),
    _col("证照名称", "name", required=True),
    _col("颁发部门类别", "issuer_kind"),
    _col("持证主体类别", "holder_kind", "choice", True, HolderKind),
    _col("有效期（年）", "validity_years", "raw"),
    _col("证照编号前缀", "number_prefix"),
    _col("照面信息字段", "fields", "list", True),
]
HELD = [
    _col("证照类型代码", "type_code", required=True),
    _col("持证人", "holder", required=True),
    _col("颁发机构", "issuer", required=True),
    _col("颁发日期", "issue_date", "raw", True),
    _col("照面信息", "data", "raw", True),
]


class _Reader:
    """Reads the files of one folder; collects every error with the file and entry it belongs to."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.errors: list[str] = []

    def add(self, where: str, key: str | None, message: str) -> None:
        self.errors.append(f"{where}「{key}」：{message}。" if key else f"{where}：{message}。")

    def file(self, name: str, keys: list[str]) -> dict[str, Any]:
        """The top-level mapping of one file (empty if the file cannot be read)."""
        try:
            raw = yaml.safe_load((self.folder / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.add(name, None, "文件不存在")
            return {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{name} 第{mark.line + 1}行" if mark else name
            self.add(where, None, f"不是有效的 YAML（{getattr(exc, 'problem', None) or exc}）")
            return {}
        except UnicodeDecodeError:
            self.add(name, None, "应为 UTF-8 编码")
            return {}
        return self.mapping(name, raw or {}, keys)

    def mapping(self, where: str, raw: Any, keys: list[str]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            self.add(where, None, "应为「键: 值」形式的条目")
            return {}
        for key in raw:
            if key not in keys:
                self.add(where, str(key), "不认识的键，可用的键为：" + "、".join(keys))
        return raw

    def value(self, where: str, column: Column, raw: Any) -> Any:
        """One value as the 实施清单 workbook reads its cell (labels or codes, 是/否, numbers)."""
        if column.required and raw in (None, "", []):
            self.add(where, column.header, "不能为空")
            return None
        if column.kind == "raw":
            return raw
        if column.kind == "list":
            if raw is not None and not isinstance(raw, list | str):
                self.add(where, column.header, "应为列表（每条以「- 」开头）")
            return [] if raw is None else raw if isinstance(raw, list) else [raw]
        if column.kind == "text" and raw is not None and not isinstance(raw, str):
            self.add(
                where, column.header, "应为文本；由数字组成的代码请加英文单引号，如 '011700600000'，否则会被读成数字"
            )
            return None
        try:
            return excel.parse_value(column, raw)
        except excel.CellError as exc:
            self.add(where, column.header, str(exc))
            return None

    def entry(self, where: str, raw: Any, columns: list[Column], *, given_only: bool = False) -> dict[str, Any]:
        """An entry's values by field name (with ``given_only``, only the keys the entry has)."""
        raw = self.mapping(where, raw, [c.header for c in columns])
        return {c.field: self.value(where, c, raw.get(c.header)) for c in columns if not given_only or c.header in raw}

    def rows(self, name: str, section: str, raw: Any, columns: list[Column], what: str = "条", title: str = "") -> list:
        """The entries of a list section: (where, values); ``where`` names the file, section and entry
        (by its ``title`` key, by default the first column)."""
        if not isinstance(raw, list):
            if raw is not None:
                self.add(name, section, "应为列表（每条以「- 」开头）")
            return []
        out = []
        for n, entry in enumerate(raw, 1):
            title_value = entry.get(title or columns[0].header) if isinstance(entry, dict) else None
            where = f"{name} {section}第{n}{what}" + (f"（{title_value}）" if title_value else "")
            out.append((where, SimpleNamespace(**self.entry(where, entry, columns))))
        return out

    def ref(self, where: str, key: str, value: Any, known, what: str) -> None:
        if value not in (None, "") and value not in known:
            self.add(where, key, f"「{value}」不是{what}")

    def checked(self, where: str, key: str, check, value: Any) -> str:
        try:
            return check(str(value or ""))
        except YiwangError as exc:
            self.add(where, key, exc.message.rstrip("。"))
            return ""


def read(folder: Path = DATA_DIR) -> DemoData:
    """Every demo file of ``folder``, checked. Raises DemoDataError listing every problem."""
    reader = _Reader(folder)
    data = DemoData()
    _read_region(reader, data)
    common = _read_common(reader)
    for path in sorted((folder / "items").glob("*.yaml")):
        _read_items(reader, data, common, f"items/{path.name}")
    _read_licences(reader, data)
    if reader.errors:
        raise DemoDataError(reader.errors)
    return data


@cache
def demo_data() -> DemoData:
    """The demo data shipped with the package (read once)."""
    return read()


def _read_region(r: _Reader, data: DemoData) -> None:
    name = "region.yaml"
    sections = [
        "密码",
        "行政区划",
        "综合受理窗口",
        "办理时间",
        "咨询电话",
        "监督投诉电话",
        "部门",
        "工作人员",
        "后台办理人员",
        "个人",
        "法人",
    ]
    top = r.file(name, sections)
    data.password = str(top.get("密码") or "")
    if not data.password:
        r.add(name, "密码", "不能为空")
    for where, region in r.rows(name, "行政区划", top.get("行政区划"), REGION):
        r.ref(where, "上级", region.parent, {g.code for g in data.regions}, "它前面的行政区划的代码")
        data.regions.append(region)
    regions = {g.code for g in data.regions}
    data.windows = {str(k): str(v) for k, v in (top.get("综合受理窗口") or {}).items()}
    data.defaults = {
        field: str(top.get(key) or "")
        for key, field in (("办理时间", "hours"), ("咨询电话", "consult_phone"), ("监督投诉电话", "complaint_phone"))
    }
    for where, dept in r.rows(name, "部门", top.get("部门"), DEPARTMENT):
        if dept.key in data.departments:
            r.add(where, "代号", f"与前面的部门重复：{dept.key}")
        r.ref(where, "上级部门", dept.parent, data.departments, "它前面的部门的代号")
        r.ref(where, "行政区划", dept.region, regions, "「行政区划」中的代码")
        dept.credit_code = r.checked(where, "统一社会信用代码", validate_uscc, dept.credit_code)
        data.departments[dept.key] = dept
    for where, staff in r.rows(name, "工作人员", top.get("工作人员"), STAFF):
        r.ref(where, "部门", staff.department, data.departments, "「部门」中的代号")
        data.staff.append(staff)
    for where, office in r.rows(name, "后台办理人员", top.get("后台办理人员"), OFFICE):
        r.ref(where, "部门", office.department, data.departments, "「部门」中的代号")
        data.offices.append(office.department)
        for role in OFFICE_ROLES.values():
            data.staff.append(
                SimpleNamespace(
                    username=f"{office.department}_{role}",
                    role=role,
                    display_name=getattr(office, role),
                    department=office.department,
                )
            )
    for where, citizen in r.rows(name, "个人", top.get("个人"), CITIZEN):
        r.ref(where, "户籍地", citizen.region, regions, "「行政区划」中的代码")
        r.ref(where, "实名认证等级", citizen.assurance_level, {1, 2, 3, 4}, "1至4之一")
        citizen.phone = r.checked(where, "手机号码", identity_services.normalize_phone, citizen.phone)
        citizen.id_number = r.checked(where, "公民身份号码", validate_citizen_id, citizen.id_number)
        data.citizens.append(citizen)
    for where, org in r.rows(name, "法人", top.get("法人"), ORGANISATION):
        r.ref(where, "登记地", org.region, regions, "「行政区划」中的代码")
        r.ref(where, "经办人", org.agent, {c.name for c in data.citizens}, "「个人」中的姓名")
        org.uscc = r.checked(where, "统一社会信用代码", validate_uscc, org.uscc)
        data.organisations.append(org)


def _read_common(r: _Reader) -> dict[str, dict[str, Any]]:
    name = "common.yaml"
    top = r.file(name, ["通用材料", "通用字段"])
    materials = {
        key: r.entry(f"{name} 通用材料「{key}」", raw, MATERIAL, given_only=True)
        for key, raw in r.mapping(name, top.get("通用材料") or {}, list(top.get("通用材料") or {})).items()
    }
    return {"materials": materials, "fields": dict(top.get("通用字段") or {})}


def _read_items(r: _Reader, data: DemoData, common: dict[str, dict[str, Any]], name: str) -> None:
    top = r.file(name, ["事项"])
    for where, row in r.rows(name, "", top.get("事项"), ITEM, "个事项", "事项名称"):
        materials = []
        for n, entry in enumerate(row.materials, 1):
            if isinstance(entry, str):
                r.ref(where, "申请材料", entry, common["materials"], " common.yaml 中的通用材料")
                materials.append(dict(common["materials"].get(entry, {})))
            else:
                materials.append(r.entry(f"{where} 第{n}项材料", entry, MATERIAL, given_only=True))
        stages = []
        for n, entry in enumerate(row.stages, 1):
            stage = r.entry(f"{where} 第{n}个环节", entry, STAGE_KEYS, given_only=True)
            r.ref(
                f"{where} 第{n}个环节",
                "办理部门",
                stage.get("department"),
                data.departments,
                " region.yaml 中部门的代号",
            )
            stages.append({"department": None, **stage})
        form = _form(r, where, row.form, common["fields"])
        for key in row.departments:
            r.ref(where, "实施机构", key, data.departments, " region.yaml 中部门的代号")
            if key in data.departments:
                fields = {**_version_fields(data, data.departments[key], vars(row)), "form_schema": form}
                data.items.append(
                    SimpleNamespace(
                        where=where,
                        department=key,
                        level=row.exercise_level,
                        base_code=row.base_code,
                        fields=fields,
                        materials=materials,
                        stages=stages,
                    )
                )


def _form(r: _Reader, where: str, entries: list, common: dict[str, Any]) -> list[dict[str, Any]]:
    """申请表: fields as the form definition has them (type text and required unless said otherwise)."""
    form: list[dict[str, Any]] = []
    for n, entry in enumerate(entries, 1):
        if isinstance(entry, str):
            r.ref(where, "申请表", entry, common, " common.yaml 中的通用字段")
            entry = common.get(entry, [])
        for spec in entry if isinstance(entry, list) else [entry]:
            if isinstance(spec, dict):
                form.append({"type": "text", "required": True, **spec})
            else:
                r.add(where, "申请表", f"第{n}项应为字段定义（{{name: …, label: …}}）或通用字段的名称")
    return form


def _version_fields(data: DemoData, dept: SimpleNamespace, row: dict[str, Any]) -> dict[str, Any]:
    """The version's elements; what an item leaves out is free of charge, or comes from region.yaml (the
    window of the department's region, the hours and phones)."""
    fields = {k: row[k] for k in excel.VERSION_KEYS if k in row}
    fee = fields["fee"] = row.get("fee") or Decimal(0)
    fields["fee_basis"] = row.get("fee_basis") or ("" if fee else "依法不收费。")
    if row.get("fee_before_completion") is None:
        fields["fee_before_completion"] = bool(fee)
    fields["location"] = row.get("location") or data.windows.get(dept.region, "")
    for key, default in data.defaults.items():
        fields[key] = row.get(key) or default
    return fields


def _read_licences(r: _Reader, data: DemoData) -> None:
    name = "licences.yaml"
    top = r.file(name, ["证照类型", "持有的证照", "存量证照"])
    for where, spec in r.rows(name, "", top.get("证照类型"), LICENCE_TYPE, "个证照类型", "证照名称"):
        years = spec.validity_years = spec.validity_years or "长期"
        if years != "长期" and not (isinstance(years, int) and 0 < years < 100):
            r.add(where, "有效期（年）", "应为1至99的整数，或「长期」")
        spec.validity_years = years if isinstance(years, int) else None
        fields = [
            r.mapping(f"{where} 第{n}个照面信息字段", f, ["name", "label", "required"])
            for n, f in enumerate(spec.fields, 1)
        ]
        spec.fields = [
            {"name": f.get("name"), "label": f.get("label"), "required": f.get("required", False)} for f in fields
        ]
        data.licence_types.append(vars(spec))
    for where, held in r.rows(name, "", top.get("持有的证照"), HELD, "个持有的证照", "持证人"):
        r.ref(where, "证照类型代码", held.type_code, {t["code"] for t in data.licence_types}, "「证照类型」中的代码")
        r.ref(where, "持证人", held.holder, {c.name for c in data.citizens}, " region.yaml「个人」中的姓名")
        r.ref(where, "颁发机构", held.issuer, data.departments, " region.yaml 中部门的代号")
        if not isinstance(held.issue_date, dt.date):
            r.add(where, "颁发日期", "应为日期，如 2023-06-08")
        if not isinstance(held.data, dict):
            r.add(where, "照面信息", "应为「字段名: 值」形式")
        held.where = where
        data.held.append(held)
    if top.get("存量证照"):
        data.history = r.folder / str(top["存量证照"])
        if not data.history.is_file():
            r.add(name, "存量证照", f"找不到文件 {top['存量证照']}")


def history_issuers(data: DemoData) -> set[str]:
    """The credit codes of the departments that issued the historical licences (颁发机构代码 column)."""
    if data.history is None:
        return set()
    with data.history.open(encoding="utf-8-sig", newline="") as fh:
        return {row.get("颁发机构代码", "") for row in csv.DictReader(fh)} - {""}
