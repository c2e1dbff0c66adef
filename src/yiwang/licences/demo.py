"""Demo licences (run by ``yiwang load-demo`` after the catalog and cases demos).

- the five licence types whose codes the catalog demo's items name as results and materials, with
  data fields that match those items' application forms (so 同步签发 fills them);
- the licences of the demo cases that were approved (the receiver queues them while the types do not
  exist yet; they are issued here at once — idempotent per case);
- each demo citizen's 个体工商户营业执照, so that the 食品经营许可 item's 营业执照 material is
  satisfied by it (免提交);
- a few hundred historical licences (存量入库) through the importer, from a CSV written here with
  fixed content: running the loader again finds the same file (same SM3) and imports nothing twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.db import transaction

from yiwang.catalog import demo as catalog_demo
from yiwang.core.ids import make_citizen_id, make_uscc, normalize
from yiwang.core.sm import blind_index
from yiwang.identity.models import Department, NaturalPerson

from . import services
from .importer import import_licences
from .models import HolderKind, Licence, LicenceType

ACTOR = "demo"


def _field(name: str, label: str, required: bool = False) -> dict:
    return {"name": name, "label": label, "required": required}


TYPES = [
    {
        "code": catalog_demo.FOOD_LICENCE,
        "name": "食品经营许可证",
        "issuer_kind": "市场监督管理部门",
        "holder_kind": HolderKind.ANY,
        "validity_years": 5,
        "number_prefix": "JY",
        "fields": [
            _field("org_name", "经营者名称", True),
            _field("legal_representative", "法定代表人（负责人）"),
            _field("premises", "经营场所", True),
            _field("business_type", "主体业态"),
            _field("items", "经营项目", True),
        ],
    },
    {
        "code": catalog_demo.BUSINESS_LICENCE,
        "name": "个体工商户营业执照",
        "issuer_kind": "市场监督管理部门",
        "holder_kind": HolderKind.PERSON,
        "validity_years": None,
        "number_prefix": "GT",
        "fields": [
            _field("business_name", "名称", True),
            _field("applicant_name", "经营者"),
            _field("organisation_form", "组成形式"),
            _field("premises", "经营场所", True),
            _field("business_scope", "经营范围"),
            _field("capital", "资金数额（万元）"),
        ],
    },
    {
        "code": catalog_demo.HYGIENE_LICENCE,
        "name": "公共场所卫生许可证",
        "issuer_kind": "卫生健康部门",
        "holder_kind": HolderKind.ANY,
        "validity_years": 4,
        "number_prefix": "WS",
        "fields": [
            _field("org_name", "单位名称", True),
            _field("legal_representative", "法定代表人（负责人）"),
            _field("premises", "经营地址", True),
            _field("category", "许可项目"),
        ],
    },
    {
        "code": catalog_demo.MARRIAGE_CERTIFICATE,
        "name": "结婚证",
        "issuer_kind": "民政部门（婚姻登记机关）",
        "holder_kind": HolderKind.PERSON,
        "validity_years": None,
        "number_prefix": "J",
        # the spouses' names only: their ID numbers stay in the marriage register, not on the licence data
        "fields": [_field("groom_name", "男方", True), _field("bride_name", "女方", True)],
    },
    {
        "code": catalog_demo.ROAD_TRANSPORT_LICENCE,
        "name": "道路运输经营许可证",
        "issuer_kind": "交通运输主管部门",
        "holder_kind": HolderKind.ORGANISATION,
        "validity_years": 4,
        "number_prefix": "YS",
        "fields": [
            _field("org_name", "业户名称", True),
            _field("vehicles", "营运车辆数"),
            _field("scope", "经营范围"),
        ],
    },
]

# what each demo citizen's own 个体工商户营业执照 says (issuing department key, data)
BUSINESSES = [
    (
        "yc_scjg",
        {
            "business_name": "源城区张伟小吃店",
            "organisation_form": "个人经营",
            "premises": "河源市源城区建设大道128号首层",
            "business_scope": "小吃服务；预包装食品销售",
            "capital": "5",
        },
    ),  # fmt: skip
    (
        "dy_scjg",
        {
            "business_name": "东源县李娜便利店",
            "organisation_form": "家庭经营",
            "premises": "河源市东源县仙塘镇沿江路16号",
            "business_scope": "日用百货、预包装食品零售",
            "capital": "8",
        },
    ),  # fmt: skip
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈钟"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "华", "平", "志强", "建华", "晓燕", "国庆", "海燕", "永红", "春梅", "金凤", "文杰", "嘉欣"]  # fmt: skip
SHOPS = ["小吃店", "粉店", "茶餐厅", "便利店", "烧腊店", "面包坊", "奶茶店", "农家菜馆", "水果店", "粮油店"]
STREETS = ["越王大道", "建设大道", "新风路", "文明路", "沿江路", "中山街", "公园路", "长塘路", "红星路", "大同路"]
COUNTIES = ["441602", "441621", "441622", "441623", "441624", "441625"]
HEADER = ["证照类型代码", "证照编号", "持证主体", "持证主体代码", "颁发机构代码", "颁发日期", "有效期截止", "状态",
          "经营者名称", "单位名称", "业户名称", "名称", "经营者", "经营场所", "经营地址", "主体业态", "经营项目",
          "经营范围", "许可项目", "男方", "女方", "营运车辆数"]  # fmt: skip


def _types() -> int:
    created = 0
    for spec in TYPES:
        _obj, new = LicenceType.objects.update_or_create(code=spec["code"], defaults={**spec, "active": True})
        created += new
    return created


def _department(key: str) -> Department | None:
    return Department.objects.filter(credit_code=catalog_demo.DEPT[key].credit_code).first()


def _citizen_businesses() -> int:
    """Each demo citizen holds a valid 个体工商户营业执照 (issued once)."""
    issued = 0
    for citizen, (dept_key, data) in zip(catalog_demo.CITIZENS, BUSINESSES, strict=False):
        person = NaturalPerson.objects.filter(id_digest=blind_index(normalize(citizen.id_number))).first()
        issuer = _department(dept_key)
        if person is None or issuer is None:
            continue
        held = Licence.objects.filter(
            type_code=catalog_demo.BUSINESS_LICENCE, holder_digest=person.id_digest, status=Licence.Status.VALID
        )
        if held.exists():
            continue
        services.issue_licence(
            licence_type=catalog_demo.BUSINESS_LICENCE,
            issuer=issuer,
            holder=person,
            data={**data, "applicant_name": person.name},
            issue_date=dt.date(2023, 6, 8),
        )
        issued += 1
    return issued


def history_rows() -> list[list[str]]:
    """A fixed set of historical licences across the demo region (same rows on every run)."""
    rng = random.Random(20261122)
    enterprise = catalog_demo.ENTERPRISE
    rows: list[list[str]] = []

    def person(n: int) -> tuple[str, str]:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        birth = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(0, 17000))
        return name, make_citizen_id(rng.choice(COUNTIES), birth, n % 1000)

    def row(code: str, number: str, holder: tuple[str, str], dept: str, issued: dt.date, until: str = "",
            status: str = "", **data: str) -> None:  # fmt: skip
        values = {"证照类型代码": code, "证照编号": number, "持证主体": holder[0], "持证主体代码": holder[1],
                  "颁发机构代码": catalog_demo.DEPT[dept].credit_code, "颁发日期": issued.isoformat(),
                  "有效期截止": until, "状态": status, **data}  # fmt: skip
        rows.append([values.get(column, "") for column in HEADER])

    def issued_on() -> dt.date:
        return dt.date(2016, 1, 4) + dt.timedelta(days=rng.randrange(0, 3400))

    for n in range(1, 181):  # 食品经营许可证: individual businesses and a few companies
        holder = person(n)
        shop = f"{holder[0]}{rng.choice(SHOPS)}"
        dept = rng.choice(["yc_scjg", "yc_scjg", "dy_scjg", "scjg"])
        status = "暂扣" if n % 67 == 0 else ("撤销" if n % 89 == 0 else "")
        kind = rng.choice(["餐饮服务经营者", "食品销售经营者"])
        row(catalog_demo.FOOD_LICENCE, f"JY1{catalog_demo.DEPT[dept].region}{n:07d}", holder, dept, issued_on(),
            status=status, 经营者名称=shop, 经营场所=f"河源市{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
            主体业态=kind, 经营项目="热食类食品制售；预包装食品销售")  # fmt: skip
    for n in range(181, 261):  # 个体工商户营业执照
        holder = person(n)
        dept = rng.choice(["yc_scjg", "dy_scjg"])
        row(catalog_demo.BUSINESS_LICENCE, f"92441600{n:010d}", holder, dept, issued_on(),
            名称=f"{holder[0]}{rng.choice(SHOPS)}", 经营者=holder[0],
            经营场所=f"河源市{rng.choice(STREETS)}{rng.randrange(1, 300)}号", 经营范围="零售；餐饮服务")  # fmt: skip
    for n in range(261, 301):  # 公共场所卫生许可证
        holder = person(n)
        row(catalog_demo.HYGIENE_LICENCE, f"粤卫公证字[2021]第441600{n:05d}号", holder,
            rng.choice(["wsjk", "yc_wsjk"]), issued_on(), 单位名称=f"{holder[0]}美发店",
            经营地址=f"河源市{rng.choice(STREETS)}{rng.randrange(1, 300)}号", 许可项目="美容美发场所")  # fmt: skip
    for n in range(301, 341):  # 结婚证
        groom, bride = person(n), person(n + 500)
        row(catalog_demo.MARRIAGE_CERTIFICATE, f"J441602-{2016 + n % 9}-{n:06d}", groom, "yc_mz", issued_on(),
            男方=groom[0], 女方=bride[0])  # fmt: skip
    # the demo enterprise's own history (一企一档 of its agent)
    org = (enterprise["name"], enterprise["uscc"])
    row(catalog_demo.FOOD_LICENCE, "JY14416020099001", org, "yc_scjg", dt.date(2022, 3, 15), 经营者名称=org[0],
        经营场所=enterprise["address"], 主体业态="餐饮服务经营者",
        经营项目="热食类食品制售；冷食类食品制售")  # fmt: skip
    row(catalog_demo.HYGIENE_LICENCE, "粤卫公证字[2019]第441600099002号", org, "wsjk", dt.date(2019, 9, 2),
        单位名称=org[0], 经营地址=enterprise["address"], 许可项目="餐饮配套包间")  # fmt: skip
    for n in range(1, 11):  # 道路运输经营许可证 of transport companies
        name = f"河源市{rng.choice(['万绿', '东江', '客都', '槎城', '新丰江'])}{n}号物流有限公司"
        holder = (name, make_uscc("91441600", f"MA4T{n:04d}"))
        row(catalog_demo.ROAD_TRANSPORT_LICENCE, f"粤交运管许可河字441600{n:06d}号", holder, "jt", issued_on(),
            业户名称=name, 营运车辆数=str(rng.randrange(3, 80)), 经营范围="道路普通货物运输")  # fmt: skip
    return rows


def _history() -> str:
    folder = Path(settings.DATA_DIR) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "licences-history.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(history_rows())
    report = import_licences(path, actor=ACTOR)
    return report.summary


def load(stdout: TextIO) -> None:
    with transaction.atomic():
        types = _types()
        businesses = _citizen_businesses()
    summary = _history()
    stdout.write(
        f"电子证照：新建证照类型{types}个；演示个人营业执照{businesses}张；"
        f"存量入库 — {summary}\n证照库共 {Licence.objects.count()} 个证照版本。\n"
    )
