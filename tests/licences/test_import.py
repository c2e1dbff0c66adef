"""`yiwang import-licences FILE`: 存量入库 in signed batches, resumable, with rejected rows explained."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from catalog.factories import DepartmentFactory
from django.core.management import CommandError, call_command

from licences.factories import citizen, food_data, licence_type, organisation
from yiwang.core.ids import make_citizen_id
from yiwang.licences import selectors, services
from yiwang.licences.importer import import_licences
from yiwang.licences.models import HolderKind, ImportBatch, Licence
from yiwang.licences.verification import record_problems

pytestmark = pytest.mark.django_db

HEADER = ["证照类型代码", "证照编号", "持证主体", "持证主体代码", "颁发机构代码", "颁发日期", "有效期截止", "状态",
          "经营者名称", "经营场所", "经营项目"]  # fmt: skip
FOOD = "11100000000013338W001"


@pytest.fixture
def setting():
    department = DepartmentFactory(name="河源市市场监督管理局")
    licence_type()
    return {"department": department, "code": department.credit_code}


def person_id(n: int) -> str:
    return make_citizen_id("441602", dt.date(1970, 1, 1) + dt.timedelta(days=n), n % 1000)


def good_row(setting, n: int, **overrides) -> list:
    row = {
        "证照类型代码": FOOD, "证照编号": f"JY1441602{n:07d}", "持证主体": f"经营者{n}", "持证主体代码": person_id(n),
        "颁发机构代码": setting["code"], "颁发日期": "2021-05-06", "有效期截止": "2031-05-05", "状态": "",
        "经营者名称": f"小吃店{n}", "经营场所": f"河源市源城区{n}号", "经营项目": "热食类食品制售",
    }  # fmt: skip
    row.update(overrides)
    return [row[h] for h in HEADER]


def write_csv(path, rows, header=HEADER):
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(path, *args) -> str:
    out = io.StringIO()
    call_command("import_licences", str(path), "--no-progress", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_import_signs_every_row_and_explains_every_rejection(tmp_path, setting):
    existing = services.issue_licence(
        licence_type=FOOD, issuer=setting["department"], holder=citizen(), data=food_data()
    )
    rows = [
        good_row(setting, 1),
        good_row(setting, 2, 有效期截止="2022-05-05"),  # expired by now
        good_row(setting, 3, 状态="暂扣"),
        good_row(setting, 4, 证照类型代码="11100000000013338W099"),
        good_row(setting, 5, 持证主体代码="441602197001060051"),
        good_row(setting, 6, 颁发日期="2021-13-40"),
        good_row(setting, 7, 颁发机构代码="91440000000000000X"),
        good_row(setting, 1, 持证主体="重复者"),
        good_row(setting, 9, 证照编号=existing.number),
        good_row(setting, 10, 经营场所=""),
        good_row(setting, 11, 颁发日期="2021/5/6", 有效期截止="2020-01-01"),
        good_row(setting, 12, 状态="作废"),
    ]
    path = write_csv(tmp_path / "历史证照.csv", rows)
    output = run(path)
    assert Licence.objects.filter(origin="import").count() == 3
    expected = [
        (5, "证照类型代码“11100000000013338W099”未在证照目录中登记。"),
        (6, "公民身份号码最后一位校验码与前17位不符，请核对后重新输入。"),
        (7, "颁发日期“2021-13-40”不是有效日期（应为 YYYY-MM-DD）。"),
        (8, "颁发机构代码“91440000000000000X”不是本平台登记的部门。"),
        (9, "证照编号与第 2 行重复。"),
        (10, "证照编号已存在于证照库（已入库），未重复导入。"),
        (11, "缺少照面信息：经营场所。"),
        (12, "有效期截止日期不能早于起始日期。"),
        (13, "状态应为 有效、暂扣 或 撤销。"),
    ]
    for row, reason in expected:
        assert f"第 {row} 行" in output and reason in output
    assert "共 12 行；本次导入 3 行，拒绝 9 行" in output
    with (tmp_path / "历史证照.rejected.csv").open(encoding="utf-8-sig") as fh:
        report = list(csv.reader(fh))
    assert report[0] == ["行号", "证照编号", "拒绝原因"]
    assert [(int(r[0]), r[2]) for r in report[1:]] == expected
    first, lapsed, suspended = Licence.objects.filter(origin="import").order_by("number")
    assert (first.status, lapsed.status, suspended.status) == ("valid", "expired", "suspended")
    assert first.number == "JY14416020000001" and first.issue_date == dt.date(2021, 5, 6)
    assert first.data == {"shop_name": "小吃店1", "address": "河源市源城区1号", "category": "热食类食品制售"}
    for licence in (first, lapsed, suspended):
        assert record_problems(licence) == []
    verified = io.StringIO()
    call_command("verify_audit", stdout=verified)
    assert "校验通过" in verified.getvalue()


def test_an_interrupted_import_resumes_without_duplicates(tmp_path, setting):
    path = write_csv(tmp_path / "batch.csv", [good_row(setting, n) for n in range(1, 11)])
    seen = []

    def interrupt(rows: int) -> None:
        seen.append(rows)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_licences(path, chunk_size=3, on_progress=interrupt)
    assert Licence.objects.count() == 6  # two chunks committed, the rest untouched
    output = run(path, "--chunk-size", "3")
    assert "本次导入 4 行，拒绝 0 行，跳过已处理 6 行；累计导入 10 行" in output
    assert "跳过已处理 10 行" in run(path)
    assert Licence.objects.count() == 10
    assert len(set(Licence.objects.values_list("serial", flat=True))) == 10
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.imported, batch.rejected) == ("done", 10, 0)


def test_a_large_file_can_be_spread_over_several_runs(tmp_path, setting):
    path = write_csv(tmp_path / "big.csv", [good_row(setting, n) for n in range(1, 8)])
    assert "本次导入 5 行" in run(path, "--max-rows", "5")
    assert ImportBatch.objects.get().status == "running"
    out, err = io.StringIO(), io.StringIO()
    call_command("import_licences", str(path), "--max-rows", "5", stdout=out, stderr=err)
    assert "本次导入 2 行" in out.getvalue()
    assert "导入证照" in err.getvalue() and "2/2" in err.getvalue()  # the progress bar
    assert ImportBatch.objects.get().status == "done"


def test_excel_with_date_cells_and_organisations(tmp_path, setting):
    kind = licence_type(code="11100000000013338W005", name="道路运输经营许可证", holder_kind=HolderKind.ORGANISATION,
                        fields=[{"name": "scope", "label": "经营范围", "required": True}], prefix="YS")  # fmt: skip
    company = organisation()
    book = openpyxl.Workbook()
    sheet = book.active
    header = ["证照类型代码", "证照编号", "持证主体", "持证主体代码", "持证主体代码类型", "颁发机构代码", "颁发日期"]
    sheet.append([*header, "经营范围"])
    sheet.append([kind.code, "粤交运管许可河字441600000001号", company.name, company.uscc, "001", setting["code"],
                  dt.datetime(2023, 2, 1), "道路普通货物运输"])  # fmt: skip
    path = tmp_path / "道路运输.xlsx"
    book.save(path)
    assert "本次导入 1 行" in run(path)
    licence = Licence.objects.get(type_code=kind.code)
    assert licence.holder_org == company and licence.holder_code_type == "001"
    assert (licence.valid_from, licence.valid_until) == (dt.date(2023, 2, 1), dt.date(2028, 1, 31))


def test_for_a_type_held_by_either_the_code_tells_person_from_organisation(tmp_path, setting):
    licence_type(holder_kind=HolderKind.ANY)
    company = organisation()
    rows = [good_row(setting, 1), good_row(setting, 2, 持证主体=company.name, 持证主体代码=company.uscc)]
    assert "本次导入 2 行" in run(write_csv(tmp_path / "any.csv", rows))
    assert sorted(Licence.objects.values_list("holder_code_type", flat=True)) == ["001", "111"]


def test_imported_licences_appear_in_their_holder_s_wallet(tmp_path, setting):
    person = citizen("陈历史")
    row = good_row(setting, 1, 持证主体="陈历史", 持证主体代码=person.id_number)
    run(write_csv(tmp_path / "one.csv", [row]))
    licence = Licence.objects.get(origin="import")
    assert licence.holder_person == person
    assert list(selectors.wallet(person.user)) == [licence]


def test_a_file_without_the_required_columns_is_refused(tmp_path, setting):
    path = write_csv(tmp_path / "bad.csv", [["x"]], header=["证照编号", "持证主体"])
    with pytest.raises(CommandError, match="文件缺少必需的列：证照类型代码、持证主体代码、颁发机构代码、颁发日期。"):
        run(path)
    assert not ImportBatch.objects.exists()


def test_a_key_rotated_during_the_import_signs_the_remaining_rows_with_the_new_key(tmp_path, setting):
    from yiwang.core import keys

    old = keys.active_key(setting["code"])
    rotated = []

    def rotate_once(rows: int) -> None:
        if not rotated:
            rotated.append(keys.rotate(setting["code"], actor="admin"))

    path = write_csv(tmp_path / "rotation.csv", [good_row(setting, n) for n in range(1, 8)])
    report = import_licences(path, chunk_size=3, on_progress=rotate_once)
    assert (report.imported, report.rejected) == (7, 0)
    by_key = sorted(Licence.objects.values_list("key_id", flat=True))
    assert by_key == sorted([old.key_id] * 3 + [rotated[0].key_id] * 4)
    for licence in Licence.objects.all():
        assert record_problems(licence) == []
