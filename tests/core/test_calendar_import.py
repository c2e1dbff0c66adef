"""`yiwang import-calendar FILE` and the admin's import: all rows checked first, all or nothing."""

import datetime as dt
import io
import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.dispatch import receiver
from openpyxl import Workbook

from yiwang.core.calendar import add_working_days, schedule_published
from yiwang.core.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db

SCHEDULE_2027 = [
    ("日期", "是否上班", "名称"),
    ("2027-01-01", "否", "元旦"),
    ("2027-02-06", "是", "春节调休上班"),
    ("2027/2/8", "否", "春节"),
    ("2027年2月9日", "休息", "春节"),
    ("20271001", "否", "国庆节"),
    ("2027-10-09", "上班", "国庆节调休上班"),
]


def write_csv(path, rows, encoding="utf-8-sig"):
    path.write_text("\n".join(",".join(str(c) for c in row) for row in rows) + "\n", encoding=encoding)
    return path


def write_xlsx(path, rows):
    wb = Workbook()
    ws = wb.active
    ws.title = "2027年节假日"
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_calendar", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def announced():
    years = []

    @receiver(schedule_published)
    def listen(sender, year, **kwargs):
        years.append(year)

    yield years
    schedule_published.disconnect(listen)


def test_import_csv(tmp_path, announced, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run(str(write_csv(tmp_path / "2027.csv", SCHEDULE_2027)), "--source", "国办发明电〔2026〕X号")
    assert "已导入 2027 年节假日安排：4 个休息日，2 个调休上班日。" in out
    assert announced == [2027]
    assert CalendarYear.objects.get(year=2027).source == "国办发明电〔2026〕X号"
    assert CalendarDay.objects.filter(year=2027).count() == 6
    assert CalendarDay.objects.get(date=dt.date(2027, 2, 9)).is_workday is False
    assert add_working_days(dt.date(2027, 2, 5), 1).date == dt.date(2027, 2, 6)  # Saturday make-up day
    assert add_working_days(dt.date(2027, 2, 5), 1).provisional is False


def test_import_xlsx_with_real_date_cells(tmp_path):
    rows = [SCHEDULE_2027[0]] + [(dt.date(2027, 1, 1), "否", "元旦"), (dt.datetime(2027, 2, 6), 1, "春节调休上班")]
    out, _ = run(str(write_xlsx(tmp_path / "2027.xlsx", rows)))
    assert "1 个休息日，1 个调休上班日" in out
    assert CalendarYear.objects.get(year=2027).source.endswith("2027.xlsx")
    assert CalendarDay.objects.get(date=dt.date(2027, 2, 6)).is_workday is True


def test_gbk_csv_from_excel_is_read(tmp_path):
    run(str(write_csv(tmp_path / "gbk.csv", SCHEDULE_2027, encoding="gbk")))
    assert CalendarDay.objects.get(date=dt.date(2027, 10, 1)).name == "国庆节"


def test_every_bad_row_is_reported_and_nothing_is_imported(tmp_path, announced):
    rows = [
        ("日期", "是否上班", "名称"),
        ("2027-01-01", "否", "元旦"),
        ("2027-02-30", "否", "春节"),
        ("2027-02-08", "也许", "春节"),
        ("2028-01-01", "否", "元旦"),
        ("2027-01-01", "否", "元旦"),
        ("", "否", ""),
    ]
    with pytest.raises(CommandError, match="文件有 5 处错误，未导入任何数据。"):
        run(str(write_csv(tmp_path / "bad.csv", rows)))
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not CalendarDay.objects.filter(date__year=2027).exists()
    assert announced == []


def test_row_errors_name_row_and_column(tmp_path):
    rows = [
        ("日期", "是否上班", "名称"),
        ("2027-02-30", "否", "春节"),
        ("2027-01-01", "maybe", "元旦"),
        ("2028-01-01", "否", "元旦"),
    ]
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_calendar", str(write_csv(tmp_path / "bad.csv", rows)), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines == [
        "第2行 日期：“2027-02-30”不是有效日期，请写成 2027-10-01。",
        "第3行 是否上班：“maybe”无法识别，请填“是”或“否”。",
        "第4行 日期：2028-01-01 与第3行的年份 2027 不同：每个文件只能包含一个年份。",
    ]


def test_missing_column_and_unsupported_files(tmp_path):
    with pytest.raises(CommandError, match="第1行缺少列：是否上班。表头应为：日期、是否上班、名称。"):
        run(str(write_csv(tmp_path / "x.csv", [("日期", "名称"), ("2027-01-01", "元旦")])))
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(CommandError, match=r"只支持 \.csv 或 \.xlsx 文件"):
        run(str(tmp_path / "old.xls"))
    with pytest.raises(CommandError, match="不存在"):
        run(str(tmp_path / "nope.csv"))
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="无法读取 Excel 文件"):
        run(str(tmp_path / "broken.xlsx"))
    with pytest.raises(CommandError, match="文件中没有数据行"):
        run(str(write_csv(tmp_path / "empty.csv", [("日期", "是否上班", "名称")])))


def test_cli_entry_point_accepts_the_dashed_name():
    result = subprocess.run(
        [sys.executable, "-m", "yiwang.cli", "import-calendar", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "导入一个年份的节假日安排" in result.stdout


def test_admin_import_view(admin_client, tmp_path):
    page = admin_client.get("/admin/core/calendaryear/import/")
    assert page.status_code == 200 and "导入节假日安排" in page.content.decode()
    bad = write_csv(tmp_path / "bad.csv", [("日期", "是否上班", "名称"), ("2027-13-01", "否", "x")])
    response = admin_client.post(
        "/admin/core/calendaryear/import/",
        {"file": SimpleUploadedFile("bad.csv", bad.read_bytes()), "source": ""},
    )
    body = response.content.decode()
    assert "文件有 1 处错误，未导入任何数据。" in body
    assert "第2行 日期：“2027-13-01”不是有效日期" in body
    good = write_csv(tmp_path / "2027.csv", SCHEDULE_2027)
    response = admin_client.post(
        "/admin/core/calendaryear/import/",
        {"file": SimpleUploadedFile("2027.csv", good.read_bytes()), "source": "通知"},
        follow=True,
    )
    assert "已导入 2027 年节假日安排。" in response.content.decode()
    assert CalendarYear.objects.get(year=2027).source == "通知"
