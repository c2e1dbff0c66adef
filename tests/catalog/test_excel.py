import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import transaction

from catalog.factories import DepartmentFactory, published_version
from yiwang.catalog import excel, services
from yiwang.catalog.models import ItemVersion, MaterialRequirement, ServiceItem
from yiwang.core.errors import InvalidInput, TooLarge

pytestmark = pytest.mark.django_db

PARALLEL = [
    {"name": "受理审查", "kind": "handle", "role": "handler", "time_share": 20},
    {"name": "住建审查", "kind": "review", "role": "reviewer", "order": 2, "parallel_group": "联审", "time_share": 40},
    {"name": "规划审查", "kind": "review", "role": "reviewer", "order": 2, "parallel_group": "联审", "time_share": 40},
    {"name": "审批", "kind": "decide", "role": "approver", "order": 3, "time_share": 40},
]


@pytest.fixture
def departments():
    return DepartmentFactory(name="河源市市场监督管理局"), DepartmentFactory(name="河源市自然资源局")


def build_catalog(market, land):
    food = published_version(
        department=market,
        base_code="000117006000",
        name="食品经营许可",
        fee=Decimal("12.50"),
        fee_basis="《收费标准》",
        keywords="餐饮 小吃",
        result_type="licence",
        result_name="食品经营许可证",
        result_licence_type="11100000000013338W001",
        materials=[
            {"name": "营业执照", "source": "licence", "source_ref": "11100000000013338W002", "kind": "electronic"},
            {"name": "户口簿", "source": "shared_data", "source_ref": "POP-HOUSEHOLD", "required": False, "copies": 2},
            {"name": "食品安全管理制度", "basis": "《食品经营许可管理办法》第十二条", "note": "加盖公章"},
        ],
    )
    stages = [dict(s) for s in PARALLEL]
    stages[2]["department"] = land
    building = published_version(department=market, base_code="000117006001", name="建筑工程施工许可", stages=stages)
    return food, building


def read_cells(data: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {name: [tuple(c.value for c in row) for row in book[name].iter_rows()] for name in book.sheetnames}


def test_every_version_element_has_a_column():
    assert set(excel.VERSION_KEYS) == set(services.VERSION_FIELDS)


def test_round_trip_is_exact(departments):
    with transaction.atomic():
        build_catalog(*departments)
        first = excel.export_workbook()
        transaction.set_rollback(True)  # back to an empty catalog; the departments stay
    assert ServiceItem.objects.count() == 0

    result = excel.import_workbook(first, actor="test")
    assert len(result.created) == 2 and result.materials == 5 and result.stages == 7
    second = excel.export_workbook()
    assert read_cells(second) == read_cells(first)

    cells = read_cells(first)
    assert list(cells) == ["事项", "材料", "环节"]
    header = cells["事项"][0]
    food = dict(zip(header, cells["事项"][1], strict=True))
    assert food["事项名称"] == "食品经营许可"
    assert food["事项类型"] == "行政许可" and food["办件类型"] == "承诺件" and food["须缴费后方可办结"] == "是"
    assert food["收费标准（元）"] == 12.5
    assert len(food["实施编码"]) == 31
    materials = [dict(zip(cells["材料"][0], row, strict=True)) for row in cells["材料"][1:]]
    assert materials[0]["来源渠道"] == "电子证照" and materials[0]["来源代码"] == "11100000000013338W002"
    stages = [dict(zip(cells["环节"][0], row, strict=True)) for row in cells["环节"][1:]]
    assert [s["并联组"] for s in stages if s["事项实施编码"] != food["实施编码"]] == [None, "联审", "联审", None]


def test_imported_items_are_published_with_their_parts(departments):
    market, land = departments
    with transaction.atomic():
        build_catalog(market, land)
        data = excel.export_workbook()
        transaction.set_rollback(True)
    excel.import_workbook(data)
    building = ItemVersion.objects.get(name="建筑工程施工许可")
    assert building.status == ItemVersion.Status.PUBLISHED and building.item.current_version == building
    assert [(s.order, s.department) for s in building.stages.all()] == [(1, None), (2, None), (2, land), (3, None)]
    food = ItemVersion.objects.get(name="食品经营许可")
    assert food.fee == Decimal("12.50") and food.result_licence_type == "11100000000013338W001"
    assert food.form_schema[1]["type"] == "id_number"


def test_reimport_makes_a_new_version_and_keeps_blank_forms(departments):
    food, _building = build_catalog(*departments)
    draft = services.new_draft_from(food)
    material = draft.materials.get(name="食品安全管理制度")
    material.blank_form.save("制度模板.docx", ContentFile(b"template"), save=False)
    services.save_part(material)
    food = services.publish(draft)
    data = excel.export_workbook()
    result = excel.import_workbook(data)
    assert sorted(result.updated) == sorted(ServiceItem.objects.values_list("code", flat=True))
    current = food.item.current_version
    assert current.number == 3
    assert current.materials.get(name="食品安全管理制度").blank_form.name == material.blank_form.name


def write_book(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def edit(data: bytes, changes: dict[tuple[str, int, str], object], extra_rows: dict[str, list[list]] | None = None):
    """Change cells addressed by (sheet, excel row, header) in an exported workbook."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    for (sheet, row, header), value in changes.items():
        headers = [c.value for c in book[sheet][1]]
        book[sheet].cell(row=row, column=headers.index(header) + 1).value = value
    for sheet, rows in (extra_rows or {}).items():
        for row in rows:
            book[sheet].append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_errors(data: bytes) -> list[str]:
    with pytest.raises(InvalidInput) as info:
        excel.import_workbook(data)
    assert info.value.message.startswith(f"工作簿有{len(info.value.errors)}处错误，未导入任何数据：")
    return info.value.errors


def test_every_bad_cell_is_reported_with_sheet_row_and_column_and_nothing_is_written(departments):
    with transaction.atomic():
        food, _building = build_catalog(*departments)
        food_code = food.item.code
        data = excel.export_workbook()
        transaction.set_rollback(True)
    bad = edit(
        data,
        {
            ("事项", 2, "法定时限（工作日）"): "二十",
            ("事项", 2, "事项类型"): "行政许诺",
            ("事项", 2, "收费标准（元）"): "12.345",
            ("事项", 2, "须缴费后方可办结"): "也许",
            ("事项", 3, "实施机构统一社会信用代码"): "91441600MA00000000",
            ("事项", 3, "事项名称"): None,
            ("事项", 3, "申请表定义（JSON）"): "[{",
            ("材料", 2, "份数"): -1,
            ("材料", 3, "来源渠道"): "邮寄",
            ("环节", 4, "办理部门统一社会信用代码"): "11441600MB0000000X",
            ("环节", 5, "办理角色"): "局长",
        },
        extra_rows={
            "材料": [["1234567890123456789012345678901", 9, "身份证", "是", 1, "原件", "pdf", "申请人自备"]],
            "环节": [[food_code, 9, "审批", "审批", "审批人", None, 0]],
        },
    )
    errors = import_errors(bad)
    assert "「事项」表第2行「法定时限（工作日）」列：应为非负整数。" in errors
    assert any(e.startswith("「事项」表第2行「事项类型」列：「行政许诺」不是有效值，可选：行政许可、") for e in errors)
    assert "「事项」表第2行「收费标准（元）」列：应为不小于0的金额，最多两位小数。" in errors
    assert "「事项」表第2行「须缴费后方可办结」列：应为「是」或「否」。" in errors
    assert "「事项」表第3行「实施机构统一社会信用代码」列：没有统一社会信用代码为 91441600MA00000000 的部门。" in errors
    assert "「事项」表第3行「事项名称」列：不能为空。" in errors
    assert "「事项」表第3行「申请表定义（JSON）」列：该值不是有效的 JSON（第 3 个字符附近）。" in errors
    assert "「材料」表第2行「份数」列：应为非负整数。" in errors
    assert any(e.startswith("「材料」表第3行「来源渠道」列：「邮寄」不是有效值") for e in errors)
    assert "「环节」表第4行「办理部门统一社会信用代码」列：没有统一社会信用代码为 11441600MB0000000X 的部门。" in errors
    assert any(
        e.startswith("「环节」表第5行「办理角色」列：「局长」不是有效值，可选：综窗受理员、承办人、审核人、审批人")
        for e in errors
    )
    assert "「材料」表第7行「事项实施编码」列：事项 1234567890123456789012345678901 不在「事项」表中。" in errors
    assert "「环节」表第9行「环节名称」列：「审批」与第4行重复。" in errors
    assert ServiceItem.objects.count() == 0 and ItemVersion.objects.count() == 0


def test_codes_duplicate_or_inconsistent(departments):
    with transaction.atomic():
        build_catalog(*departments)
        data = excel.export_workbook()
        transaction.set_rollback(True)
    book = openpyxl.load_workbook(io.BytesIO(data))
    first = [c.value for c in book["事项"][2]]
    book["事项"].append(first)  # row 4 repeats row 2
    out = io.BytesIO()
    book.save(out)
    code = first[0]
    bad = edit(out.getvalue(), {("事项", 3, "行使层级"): "县级", ("事项", 3, "基本编码"): "00011700600"})
    errors = import_errors(bad)
    assert f"「事项」表第4行「实施编码」列：实施编码 {code} 与第2行重复。" in errors
    assert "「事项」表第3行「基本编码」列：应为12位数字或大写字母（当前11位）。" in errors
    bad = edit(data, {("事项", 3, "行使层级"): "县级"})
    errors = import_errors(bad)
    assert errors[0].startswith(
        "「事项」表第3行「实施编码」列：与「实施机构统一社会信用代码」+「行使层级」+「基本编码」不一致，应为 "
    )


def test_rules_of_the_services_are_reported_per_item_and_roll_everything_back(departments):
    market, _land = departments
    with transaction.atomic():
        build_catalog(*departments)
        data = excel.export_workbook()
        transaction.set_rollback(True)
    book = openpyxl.load_workbook(io.BytesIO(data))
    building_code = book["事项"]["A3"].value
    stages = book["环节"]
    for row in range(stages.max_row, 1, -1):
        if stages.cell(row=row, column=1).value == building_code:
            stages.delete_rows(row)
    out = io.BytesIO()
    book.save(out)
    bad = edit(out.getvalue(), {("事项", 2, "承诺时限（工作日）"): 30})
    errors = import_errors(bad)
    assert errors == [
        "「事项」表第2行（食品经营许可）：事项版本有误：承诺办结时限（30个工作日）不得超过法定办结时限（20个工作日）。",
        "「事项」表第3行（建筑工程施工许可）：第1版还不能发布：至少须有一个办理环节。",
    ]
    assert ServiceItem.objects.count() == 0


def test_an_item_with_an_open_draft_is_refused(departments):
    food, _ = build_catalog(*departments)
    data = excel.export_workbook()
    services.new_draft_from(food)
    errors = import_errors(data)
    assert errors == [f"「事项」表第2行：事项 {food.item.code} 已有草稿版本（第2版），请先发布或删除该草稿再导入。"]
    assert food.item.versions.count() == 2


def test_missing_sheets_and_columns():
    errors = import_errors(
        write_book({"事项": [["事项名称", "基本编码"]], "环节": [[h.header for h in excel.STAGE_COLUMNS]]})
    )
    assert errors[0].startswith("「事项」表第1行缺少以下列：「事项类型」、「行使层级」、「实施机构统一社会信用代码」")
    assert errors[1] == "工作簿缺少工作表「材料」。"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,code\nfood,1\n", "文件不是 Excel 工作簿（.xlsx）"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "这是旧版 Excel 97-2003（.xls）文件"),
        (b"PK\x03\x04broken", "文件不是 Excel 工作簿（.xlsx）"),
    ],
)
def test_files_that_are_not_workbooks_are_refused_by_content(content, message):
    with pytest.raises(InvalidInput) as info:
        excel.import_workbook(content)
    assert info.value.message.startswith(message) and info.value.field == "file"


def test_a_zip_that_is_not_a_workbook_or_is_damaged():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(InvalidInput, match="文件不是 Excel 工作簿"):
        excel.import_workbook(out.getvalue())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "not xml")
    with pytest.raises(InvalidInput, match="工作簿已损坏"):
        excel.import_workbook(out.getvalue())


def test_oversize_files_are_refused_before_reading(settings):
    settings.YIWANG_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(TooLarge) as info:
        excel.import_workbook(io.BytesIO(b"PK\x03\x04" + b"0" * 2000))
    assert info.value.status == 413
    assert "文件超过大小上限" in info.value.message


def test_zip_bombs_are_refused(monkeypatch):
    monkeypatch.setattr(excel, "MAX_UNCOMPRESSED", 1000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "0" * 5000)
    with pytest.raises(InvalidInput, match="解压后过大"):
        excel.import_workbook(out.getvalue())


def test_commands_export_and_import(departments, tmp_path, capsys):
    with transaction.atomic():
        build_catalog(*departments)
        path = tmp_path / "catalog.xlsx"
        call_command("export_catalog", str(path))
        transaction.set_rollback(True)
    assert "已导出到" in capsys.readouterr().out
    call_command("import_catalog", str(path), "--effective-from", "2099-01-01")
    assert "导入完成：新增事项2项，更新事项0项，材料5条，环节7条，均已发布。" in capsys.readouterr().out
    assert set(ItemVersion.objects.values_list("effective_from", flat=True)) == {dt.date(2099, 1, 1)}

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(edit(path.read_bytes(), {("材料", 2, "是否必要"): "必须"}))
    with pytest.raises(CommandError, match="未导入任何数据（1处错误）"):
        call_command("import_catalog", str(bad))
    assert "「材料」表第2行「是否必要」列：应为「是」或「否」。" in capsys.readouterr().err
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_catalog", str(tmp_path / "none.xlsx"))


def test_a_material_kind_column_reads_labels_and_codes(departments):
    with transaction.atomic():
        build_catalog(*departments)
        data = excel.export_workbook()
        transaction.set_rollback(True)
    excel.import_workbook(edit(data, {("材料", 2, "材料形式"): "copy", ("环节", 4, "环节类型"): "决定"}))
    assert MaterialRequirement.objects.get(name="营业执照").kind == "copy"
