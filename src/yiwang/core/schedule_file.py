"""Reading an official holiday schedule from a CSV or Excel file (columns 日期, 是否上班, 名称).

One year per file. Every row is checked before anything is returned, and all errors are reported
at once with their row number, so that a file is either imported whole or not at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import IO

from django.utils.translation import gettext as _

from .calendar import ScheduleDay
from .errors import InvalidInput

COLUMNS = ("日期", "是否上班", "名称")
TRUE_WORDS = {"是", "上班", "班", "工作日", "1", "true", "y", "yes"}
FALSE_WORDS = {"否", "休息", "休", "休息日", "放假", "0", "false", "n", "no"}
DATE_PATTERN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
MAX_BYTES = 1024 * 1024
NAME_MAX = 50


def _rows_from_csv(data: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput(_("无法识别文件编码，请保存为 UTF-8 编码的 CSV 文件。"), field="file")
    return [row for row in csv.reader(io.StringIO(text))]


def _rows_from_xlsx(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise InvalidInput(_("无法读取 Excel 文件：%(e)s") % {"e": exc}, field="file") from None
    sheet = workbook.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _parse_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = DATE_PATTERN.match(text)
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _parse_flag(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if isinstance(value, int | float) and value in (0, 1):
        text = str(int(value))
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


def read_schedule(file: IO[bytes] | Path | str, filename: str | None = None) -> tuple[int, list[ScheduleDay]]:
    """Parse a schedule file. Returns (year, days) or raises InvalidInput listing every bad row."""
    if isinstance(file, str | Path):
        path = Path(file)
        filename = filename or path.name
        if not path.exists():
            raise InvalidInput(_("文件 %(f)s 不存在。") % {"f": path}, field="file")
        data = path.read_bytes()
    else:
        data = file.read()
    name = (filename or "").lower()
    if len(data) > MAX_BYTES:
        raise InvalidInput(_("文件过大（超过 1 MB），一个年份的安排不会这么大。"), field="file")
    if name.endswith(".xlsx"):
        rows = _rows_from_xlsx(data)
    elif name.endswith(".csv"):
        rows = _rows_from_csv(data)
    else:
        raise InvalidInput(_("只支持 .csv 或 .xlsx 文件（.xls 请另存为 .xlsx）。"), field="file")

    rows = [row for row in rows if any(str(c).strip() for c in row if c is not None)]
    if not rows:
        raise InvalidInput(_("文件是空的。"), field="file")
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    missing = [c for c in COLUMNS[:2] if c not in header]
    if missing:
        raise InvalidInput(
            _("第1行缺少列：%(c)s。表头应为：日期、是否上班、名称。") % {"c": "、".join(missing)}, field="file"
        )
    col = {name: header.index(name) for name in COLUMNS if name in header}

    errors: list[dict] = []
    days: list[ScheduleDay] = []
    first_row_of: dict[dt.date, int] = {}
    year: int | None = None
    year_row = 0

    def error(row: int, column: str, message: str) -> None:
        errors.append({"row": row, "column": column, "message": message})

    for number, row in enumerate(rows[1:], start=2):

        def cell(column: str, row=row):
            index = col.get(column)
            return row[index] if index is not None and index < len(row) else None

        raw_date, raw_flag, raw_name = cell("日期"), cell("是否上班"), cell("名称")
        date = _parse_date(raw_date)
        flag = _parse_flag(raw_flag)
        name = str(raw_name).strip() if raw_name is not None else ""
        if date is None:
            error(number, "日期", _("“%(v)s”不是有效日期，请写成 2027-10-01。") % {"v": raw_date if raw_date else ""})
        if flag is None:
            error(number, "是否上班", _("“%(v)s”无法识别，请填“是”或“否”。") % {"v": raw_flag if raw_flag else ""})
        if len(name) > NAME_MAX:
            error(number, "名称", _("名称超过 %(n)d 个字。") % {"n": NAME_MAX})
        if date is None:
            continue
        if year is None:
            year, year_row = date.year, number
        elif date.year != year:
            error(
                number,
                "日期",
                _("%(d)s 与第%(r)d行的年份 %(y)d 不同：每个文件只能包含一个年份。")
                % {"d": date.isoformat(), "r": year_row, "y": year},
            )
        if date in first_row_of:
            error(number, "日期", _("%(d)s 与第%(r)d行重复。") % {"d": date.isoformat(), "r": first_row_of[date]})
        else:
            first_row_of[date] = number
        if flag is not None:
            days.append(ScheduleDay(date, flag, name))

    if year is None and not errors:
        raise InvalidInput(_("文件中没有数据行。"), field="file")
    if errors:
        raise InvalidInput(_("文件有 %(n)d 处错误，未导入任何数据。") % {"n": len(errors)}, field="file", errors=errors)
    return year, days
