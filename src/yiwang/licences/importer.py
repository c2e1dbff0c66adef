"""存量入库: importing historical licences from CSV or Excel, in signed batches, resumably.

Every pending row of the file is checked first (``check_rows``), before anything is written; then
the rows are written chunk by chunk, each chunk one transaction (``import_chunks.write_chunk``).
The file is identified by the SM3 of its bytes (``ImportBatch``); every data row gets an
``ImportRow`` with its outcome, written in the same transaction as the licences of its chunk. Run
the same file again after an interruption and it continues with the rows that have no outcome yet;
a licence already in the library (same type and 证照编号, from any file) is rejected, never doubled.

Columns (header row, Chinese names; order free):
  证照类型代码, 证照编号, 持证主体, 持证主体代码, 颁发机构代码, 颁发日期 — required;
  持证主体代码类型 (111/001; default from the licence type), 有效期起始 (default 颁发日期),
  有效期截止 (default from the type's validity; empty = 长期), 管辖属地 (default the issuer's region),
  状态 (有效/暂扣/撤销; an end date in the past makes it 已过期) — optional;
  every other column is 照面信息, matched to the type's fields by label or name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core import audit
from yiwang.core.errors import InvalidInput, YiwangError
from yiwang.core.ids import is_citizen_id, normalize
from yiwang.core.sm import sm3_hex
from yiwang.identity.models import Department

from .import_chunks import Entry, Sealers, write_chunk
from .models import ImportBatch, ImportRow, Licence, LicenceType
from .services import Holder, licence_terms

CHUNK_SIZE = 2000  # rows per transaction: large enough that the per-chunk statements do not count
LOOKUP_SIZE = 5000  # 证照编号 per query when looking for licences already in the library
REQUIRED = ("证照类型代码", "证照编号", "持证主体", "持证主体代码", "颁发机构代码", "颁发日期")
CODE_TYPES = {"111": "111", "身份证": "111", "居民身份证": "111", "001": "001", "统一社会信用代码": "001"}
STATUSES = {"": "valid", "有效": "valid", "暂扣": "suspended", "撤销": "revoked", "注销": "revoked"}
# column labels in messages, translated when a message is made (not for every row)
ISSUED, VALID_FROM, VALID_UNTIL = gettext_lazy("颁发日期"), gettext_lazy("有效期起始"), gettext_lazy("有效期截止")


@dataclass
class ImportReport:
    batch: ImportBatch
    imported: int = 0  # in this run
    rejected: int = 0  # in this run
    skipped: int = 0  # rows with an outcome from an earlier run
    rejected_file: Path | None = None
    rejections: list[tuple[int, str, str]] = field(default_factory=list)  # every rejected row of the file

    @property
    def summary(self) -> str:
        b = self.batch
        return _(
            "文件 %(f)s：共 %(t)d 行；本次导入 %(i)d 行，拒绝 %(r)d 行，跳过已处理 %(s)d 行；"
            "累计导入 %(ti)d 行，拒绝 %(tr)d 行。"
        ) % {
            "f": b.file_name, "t": b.total_rows, "i": self.imported, "r": self.rejected, "s": self.skipped,
            "ti": b.imported, "tr": b.rejected,
        }  # fmt: skip


class RowError(Exception):
    """One row cannot be imported; the message is the Chinese reason written to the report."""


# --- reading ----------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return "" if value is None else value


def read_rows(path: Path, content: bytes) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """(header, [(row number, {column: value})]) of a .csv (UTF-8 or GB18030) or .xlsx file."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        rows = book.worksheets[0].iter_rows(values_only=True)
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("gb18030")
        rows = csv.reader(io.StringIO(text))
    header: list[str] = []
    out: list[tuple[int, dict[str, Any]]] = []
    for number, row in enumerate(rows, start=1):
        values = [_cell(v) for v in row]
        if number == 1:
            header = [str(v) for v in values]
            continue
        if not any(v != "" for v in values):
            continue
        out.append((number, dict(zip(header, values, strict=False))))
    return header, out


def check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InvalidInput(_("文件缺少必需的列：%(c)s。") % {"c": "、".join(missing)}, field="file")


def _date(value: Any, label: str, *, required: bool) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = normalize(str(value)).replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-")
    text = text.rstrip("日")
    if not text:
        if required:
            raise RowError(_("缺少%(l)s。") % {"l": label})
        return None
    try:
        if text.isdigit() and len(text) == 8:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        year, month, day = (int(p) for p in text.split("-"))
        return dt.date(year, month, day)
    except ValueError:
        raise RowError(_("%(l)s“%(v)s”不是有效日期（应为 YYYY-MM-DD）。") % {"l": label, "v": value}) from None


# --- checking every row (before anything is written) -----------------------------------------


class _Context:
    """What checking a row looks up: licence types (and their field names), departments, the rows
    seen so far in this file."""

    def __init__(self) -> None:
        self.types = {t.code: t for t in LicenceType.objects.filter(active=True)}
        self.fields = {
            code: {
                **{spec["name"]: spec["name"] for spec in t.fields},
                **{spec["label"]: spec["name"] for spec in t.fields},
            }
            for code, t in self.types.items()
        }
        self.departments = {d.credit_code: d for d in Department.objects.select_related("region")}
        self.seen: dict[tuple[str, str], int] = {}  # (type, number) → first row in this file


def _parse(row: dict[str, Any], ctx: _Context) -> dict[str, Any]:
    """Validate one row into the arguments of ``build_licence`` (minus serial and sealer)."""
    code = normalize(str(row.get("证照类型代码", "")))
    licence_type = ctx.types.get(code)
    if licence_type is None:
        raise RowError(_("证照类型代码“%(c)s”未在证照目录中登记。") % {"c": code})
    number = str(row.get("证照编号", "")).strip()
    if not number:
        raise RowError(_("缺少证照编号。"))
    if len(number) > 64:
        raise RowError(_("证照编号过长（最多64个字符）。"))
    issuer = ctx.departments.get(normalize(str(row.get("颁发机构代码", ""))))
    if issuer is None:
        raise RowError(_("颁发机构代码“%(c)s”不是本平台登记的部门。") % {"c": row.get("颁发机构代码", "")})
    given = normalize(str(row.get("持证主体代码类型", "")))
    if given and given not in CODE_TYPES:
        raise RowError(_("持证主体代码类型应为 111（身份证）或 001（统一社会信用代码）。"))
    allowed = licence_type.holder_code_types
    if given:
        code_type = CODE_TYPES[given]
    elif len(allowed) == 1:
        code_type = allowed[0]
    else:  # either kind of holder: told apart by the code itself
        code_type = "111" if is_citizen_id(str(row.get("持证主体代码", ""))) else "001"
    try:
        holder = Holder.from_code(str(row.get("持证主体", "")), str(row.get("持证主体代码", "")), code_type)
    except YiwangError as exc:
        raise RowError(exc.message) from None
    status = STATUSES.get(str(row.get("状态", "")).strip())
    if status is None:
        raise RowError(_("状态应为 有效、暂扣 或 撤销。"))
    issue_date = _date(row.get("颁发日期", ""), ISSUED, required=True)
    valid_from = _date(row.get("有效期起始", ""), VALID_FROM, required=False) or issue_date
    valid_until = _date(row.get("有效期截止", ""), VALID_UNTIL, required=False)
    fields = ctx.fields[code]
    data = {}
    for column, value in row.items():
        key = fields.get(column)
        if key and value != "":
            data[key] = value.isoformat() if isinstance(value, dt.date) else value
    return {
        "licence_type": licence_type,
        "issuer": issuer,
        "holder": holder,
        "data": data,
        "issue_date": issue_date,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "region_code": normalize(str(row.get("管辖属地", ""))) or issuer.region_code,
        "number": number,
        "status": status,
    }


def _in_library(items: list[dict[str, Any]]) -> set[tuple[int, str]]:
    """(type id, 证照编号) of the given rows that the library already holds: one query per type and
    ``LOOKUP_SIZE`` numbers, over the (type, number, version) unique index."""
    by_type: dict[int, list[str]] = {}
    for item in items:
        by_type.setdefault(item["licence_type"].pk, []).append(item["number"])
    found: set[tuple[int, str]] = set()
    for type_id, numbers in by_type.items():
        for start in range(0, len(numbers), LOOKUP_SIZE):
            part = numbers[start : start + LOOKUP_SIZE]
            taken = Licence.objects.filter(licence_type_id=type_id, number__in=part).values_list("number", flat=True)
            found.update((type_id, n) for n in taken)
    return found


def check_rows(rows: list[tuple[int, dict[str, Any]]], ctx: _Context) -> list[Entry]:
    """Check every row, in file order, before anything is written: each row either becomes the
    arguments of its licence or gets the reason it is refused (naming the column or the row)."""
    entries: list[Entry] = []
    for number, row in rows:
        given = str(row.get("证照编号", ""))
        try:
            item = _parse(row, ctx)
            key = (item["licence_type"].code, item["number"])
            if key in ctx.seen:
                raise RowError(_("证照编号与第 %(n)d 行重复。") % {"n": ctx.seen[key]})
            ctx.seen[key] = number
            entries.append((number, item, given, ""))
        except RowError as exc:
            entries.append((number, None, given, str(exc)))
    taken = _in_library([item for _n, item, _g, _r in entries if item is not None])
    for index, (number, item, given, _reason) in enumerate(entries):
        if item is None:
            continue
        if (item["licence_type"].pk, item["number"]) in taken:
            entries[index] = (number, None, given, _("证照编号已存在于证照库（已入库），未重复导入。"))
            continue
        try:
            item["data"], item["valid_from"], item["valid_until"] = licence_terms(
                item["licence_type"], item["holder"], item["data"], item["issue_date"], item["valid_from"],
                item["valid_until"],
            )  # fmt: skip
        except YiwangError as exc:
            entries[index] = (number, None, given, exc.message)
    return entries


# --- the whole file ---------------------------------------------------------------------------


def import_licences(
    path: Path | str,
    *,
    actor: str = "command:import-licences",
    chunk_size: int = CHUNK_SIZE,
    max_rows: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import (or resume importing) ``path``. ``max_rows`` stops after that many rows (a large
    migration can be spread over several nights); ``on_start(pending)`` and ``on_progress(rows)``
    drive a progress bar. Rejected rows are written to ``<file>.rejected.csv`` next to the file."""
    path = Path(path)
    content = path.read_bytes()
    fingerprint = sm3_hex(content)
    header, rows = read_rows(path, content)
    del content
    report = import_rows(
        header, rows, name=path.name, fingerprint=fingerprint, actor=actor, chunk_size=chunk_size,
        max_rows=max_rows, on_progress=on_progress, on_start=on_start,
    )  # fmt: skip
    if report.rejections:
        report.rejected_file = path.with_name(path.stem + ".rejected.csv")
        with report.rejected_file.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([_("行号"), _("证照编号"), _("拒绝原因")])
            writer.writerows(report.rejections)
    return report


def import_rows(
    header: list[str],
    rows: list[tuple[int, dict[str, Any]]],
    *,
    name: str,
    fingerprint: str,
    actor: str,
    chunk_size: int = CHUNK_SIZE,
    max_rows: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import rows read from a file (or made by ``loadgen``) as the batch ``fingerprint`` (the SM3
    of the file): every pending row is checked first, then written chunk by chunk."""
    check_header(header)
    batch, _created = ImportBatch.objects.get_or_create(
        file_sm3=fingerprint, defaults={"file_name": name, "actor": actor, "total_rows": len(rows)}
    )
    total = len(rows)
    done = set(ImportRow.objects.filter(batch=batch).values_list("row_number", flat=True))
    pending = [r for r in rows if r[0] not in done]
    del rows
    report = ImportReport(batch=batch, skipped=total - len(pending))
    if max_rows is not None:
        pending = pending[:max_rows]
    ctx = _Context()
    # rows imported by an earlier run still count as seen, so that a duplicate later in the file is named
    ctx.seen.update(
        {
            (code, number): row
            for code, number, row in ImportRow.objects.filter(batch=batch, outcome="imported").values_list(
                "licence__type_code", "number", "row_number"
            )
        }
    )
    if on_start:
        on_start(len(pending))
    entries = check_rows(pending, ctx)
    del pending
    sealers = Sealers()
    for start in range(0, len(entries), chunk_size):
        chunk = entries[start : start + chunk_size]
        imported, rejected = write_chunk(batch, chunk, sealers, actor=actor)
        report.imported += imported
        report.rejected += rejected
        if on_progress:
            on_progress(len(chunk))
    finished = ImportRow.objects.filter(batch=batch).count() >= total
    if finished and batch.status != ImportBatch.Status.DONE:
        with transaction.atomic():
            batch.status = ImportBatch.Status.DONE
            batch.finished_at = timezone.now()
            batch.save(update_fields=["status", "finished_at"])
            audit.record(
                batch,
                "licences.import_finished",
                actor=actor,
                role="system",
                data={"file": batch.file_name, "rows": batch.total_rows, "imported": batch.imported,
                      "rejected": batch.rejected},
            )  # fmt: skip
    report.rejections = list(
        ImportRow.objects.filter(batch=batch, outcome="rejected").values_list("row_number", "number", "reason")
    )
    return report
