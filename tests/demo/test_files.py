"""The demo files: shipped with the package, and every mistake in them is named by file and entry before
anything is written."""

from __future__ import annotations

import io
import shutil
import tomllib
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from yiwang.catalog.models import ServiceItem
from yiwang.demo import files, loader
from yiwang.identity.models import Department, Region, User

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path) -> Path:
    """A copy of the shipped demo files that a test may break."""
    copy = tmp_path / "demo"
    shutil.copytree(files.DATA_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def errors(folder: Path) -> list[str]:
    with pytest.raises(files.DemoDataError) as failed:
        files.read(folder)
    return failed.value.errors


def test_every_data_file_is_package_data():
    """A non-editable install finds the files: pyproject's package-data covers each of them."""
    package = ROOT / "src" / "yiwang"
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    covered = {path for pattern in patterns for path in package.glob(pattern)}
    shipped = [p for p in files.DATA_DIR.rglob("*") if p.is_file() and p.suffix in {".yaml", ".csv"}]
    assert len(shipped) == 15 and all(p in covered for p in shipped)


def test_the_shipped_files_read_without_errors():
    data = files.read()
    assert (len(data.departments), len(data.staff), len(data.items), len(data.licence_types)) == (20, 57, 37, 5)
    food = next(i for i in data.items if i.fields["name"] == "食品经营许可（新办）")
    assert food.where == "items/01-market.yaml 第2个事项（食品经营许可（新办））"
    assert food.fields["location"] == "源城区行政服务中心综合受理窗口"  # its region's window (region.yaml)
    assert [m["name"] for m in food.materials][:2] == ["食品经营许可申请书", "营业执照"]  # 营业执照 from common.yaml


def test_a_bad_value_names_file_entry_and_key(folder):
    edit(folder / "items" / "01-market.yaml", "法定时限（工作日）: 10\n", "法定时限（工作日）: 十天\n")
    assert errors(folder) == [
        "items/01-market.yaml 第2个事项（食品经营许可（新办））「法定时限（工作日）」：应为非负整数。"
    ]


def test_every_mistake_is_listed_at_once(folder):
    items = folder / "items" / "01-market.yaml"
    edit(items, "基本编码: '011700600000'", "基本编码: 011700600000")  # a code without quotes is a number
    edit(items, "    办件类型: 承诺件\n    法定时限（工作日）: 10", "    办件类型: 限时件\n    法定时限（工作日）: 10")
    edit(
        items,
        "      - 营业执照\n      - {材料名称: 法定代表人",
        "      - 营业执照（电子）\n      - {材料名称: 法定代表人",
    )
    edit(folder / "region.yaml", "部门: yc_xzfw}", "部门: yc_zwfw}")
    edit(folder / "region.yaml", "公民身份号码: '441602199005121231'", "公民身份号码: '441602199005121232'")
    food = "items/01-market.yaml 第2个事项（食品经营许可（新办））"
    assert errors(folder) == [
        "region.yaml 工作人员第6条（window_yc）「部门」：「yc_zwfw」不是「部门」中的代号。",
        "region.yaml 个人第1条（张伟）「公民身份号码」：公民身份号码最后一位校验码与前17位不符，请核对后重新输入。",
        f"{food}「基本编码」：应为文本；由数字组成的代码请加英文单引号，如 '011700600000'，否则会被读成数字。",
        f"{food}「办件类型」：「限时件」不是有效值，可选：即办件、承诺件、其他。",
        f"{food}「申请材料」：「营业执照（电子）」不是 common.yaml 中的通用材料。",
    ]


def test_an_unknown_key_and_broken_yaml_are_named(folder):
    edit(folder / "licences.yaml", "    证照编号前缀: JY\n", "    证照编号: JY\n")
    edit(folder / "items" / "10-education.yaml", "事项:\n", "事项: [\n")
    found = errors(folder)
    assert len(found) == 2
    assert found[0].startswith("items/10-education.yaml 第") and "不是有效的 YAML" in found[0]
    assert found[1].startswith(
        "licences.yaml 第1个证照类型（食品经营许可证）「证照编号」：不认识的键，可用的键为：证照类型代码、"
    )


def test_a_refusal_of_the_services_names_the_entry_and_nothing_is_written(folder, db):
    """What only the catalog service can judge (the form definition) is reported like a file error, and
    the region, departments and accounts written before it are rolled back."""
    edit(
        folder / "items" / "01-market.yaml",
        "type: select, options: [{value: sales",
        "type: colour, options: [{value: sales",
    )
    data = files.read(folder)
    with pytest.raises(files.DemoDataError) as failed:
        loader.load_people_and_catalog(io.StringIO(), data)
    (message,) = failed.value.errors
    assert message.startswith("items/01-market.yaml 第2个事项（食品经营许可（新办））：")
    assert (Region.objects.count(), Department.objects.count(), User.objects.count(), ServiceItem.objects.count()) == (
        0, 0, 0, 0,
    )  # fmt: skip


def test_load_demo_stops_with_the_errors_and_loads_nothing(folder, db, monkeypatch):
    edit(folder / "region.yaml", "密码: Yiwang@2026", "密码: ''")
    monkeypatch.setattr(loader, "demo_data", lambda: files.read(folder))
    with pytest.raises(CommandError) as failed:
        call_command("load_demo", stdout=io.StringIO())
    assert str(failed.value) == "演示数据有1处错误，未载入：\n  region.yaml「密码」：不能为空。"
    assert not Region.objects.exists()
