"""Demo region for `yiwang load-demo`: 河源市 (441600) in 广东省 with its districts and counties, its
departments, demo accounts and a catalog of real-world items. Idempotent: what exists is kept.

Region codes are the real GB/T 2260 ones; department credit codes are made with valid check
characters (``make_uscc``) but are not the departments' real codes. Every demo account has the
password ``Yiwang@2026``.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TextIO
from unittest import mock

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from yiwang.core.ids import make_citizen_id, make_uscc, normalize
from yiwang.core.sm import blind_index
from yiwang.identity.models import AgentAuthorization, Department, LegalPerson, NaturalPerson, Region, StaffRole, User

from . import services
from .models import ItemVersion, ServiceItem

PASSWORD = "Yiwang@2026"
PUBLISHED_DAYS_AGO = 180
ACTOR = "system:demo"
CATALOG_GROUP = "事项管理员"

# Licence type codes shared with the licences app (its demo creates LicenceType rows with these codes).
FOOD_LICENCE = "11100000000013338W001"  # 食品经营许可证
BUSINESS_LICENCE = "11100000000013338W002"  # 个体工商户营业执照
HYGIENE_LICENCE = "11100000000013338W003"  # 公共场所卫生许可证
MARRIAGE_CERTIFICATE = "11100000000013338W004"  # 结婚证
ROAD_TRANSPORT_LICENCE = "11100000000013338W005"  # 道路运输经营许可证
HOUSEHOLD_REGISTER = "POP-HOUSEHOLD"  # shared data resource: 户口簿 (人口库)

REGIONS = [
    ("440000", "广东省", Region.Level.PROVINCE, None),
    ("441600", "河源市", Region.Level.CITY, "440000"),
    ("441602", "源城区", Region.Level.COUNTY, "441600"),
    ("441621", "紫金县", Region.Level.COUNTY, "441600"),
    ("441622", "龙川县", Region.Level.COUNTY, "441600"),
    ("441623", "连平县", Region.Level.COUNTY, "441600"),
    ("441624", "和平县", Region.Level.COUNTY, "441600"),
    ("441625", "东源县", Region.Level.COUNTY, "441600"),
]


@dataclass(frozen=True)
class Dept:
    key: str
    name: str
    short_name: str
    region: str
    org_code: str  # 8 characters of the organisation code inside the credit code
    kind: str = "11"  # 11 机关, 12 事业单位
    parent: str | None = None

    @property
    def credit_code(self) -> str:
        return make_uscc(self.kind + self.region, self.org_code)


DEPARTMENTS = [
    Dept("zsj", "河源市政务服务数据管理局", "市政数局", "441600", "00701001"),
    Dept("xzfw", "河源市行政服务中心", "市行政服务中心", "441600", "00701002", "12", "zsj"),
    Dept("scjg", "河源市市场监督管理局", "市市场监管局", "441600", "00701003"),
    Dept("ga", "河源市公安局", "市公安局", "441600", "00701004"),
    Dept("wsjk", "河源市卫生健康局", "市卫生健康局", "441600", "00701005"),
    Dept("rs", "河源市人力资源和社会保障局", "市人社局", "441600", "00701006"),
    Dept("mz", "河源市民政局", "市民政局", "441600", "00701007"),
    Dept("zj", "河源市住房和城乡建设局", "市住建局", "441600", "00701008"),
    Dept("jt", "河源市交通运输局", "市交通运输局", "441600", "00701009"),
    Dept("sw", "国家税务总局河源市税务局", "市税务局", "441600", "00701010"),
    Dept("gjj", "河源市住房公积金管理中心", "市公积金中心", "441600", "00701011", "12"),
    Dept("zr", "河源市自然资源局", "市自然资源局", "441600", "00701012"),
    Dept("jy", "河源市教育局", "市教育局", "441600", "00701013"),
    Dept("yb", "河源市医疗保障局", "市医保局", "441600", "00701014"),
    Dept("yc_xzfw", "源城区行政服务中心", "源城区行政服务中心", "441602", "00702001", "12"),
    Dept("yc_scjg", "河源市源城区市场监督管理局", "源城区市场监管局", "441602", "00702002"),
    Dept("yc_wsjk", "河源市源城区卫生健康局", "源城区卫生健康局", "441602", "00702003"),
    Dept("yc_mz", "河源市源城区民政局", "源城区民政局", "441602", "00702004"),
    Dept("yc_ga", "河源市公安局源城分局", "源城公安分局", "441602", "00702005", "11", "ga"),
    Dept("dy_scjg", "东源县市场监督管理局", "东源县市场监管局", "441625", "00703001"),
]
DEPT = {d.key: d for d in DEPARTMENTS}

HOURS = "周一至周五 上午8:30—12:00，下午14:30—17:30（法定节假日除外）"
HOTLINE = "0762-12345"
LOCATIONS = {
    "441600": "河源市行政服务中心（源城区）综合受理窗口",
    "441602": "源城区行政服务中心综合受理窗口",
    "441625": "东源县行政服务中心综合受理窗口",
}

# --- people ------------------------------------------------------------------------------------

STAFF_NAMES = iter(
    [
        "陈志明",
        "黄丽华",
        "刘建国",
        "李秀英",
        "张海波",
        "王晓燕",
        "杨伟强",
        "赵敏",
        "吴国栋",
        "周小红",
        "徐振华",
        "孙丽娟",
        "胡建军",
        "朱春梅",
        "郭永明",
        "何淑芬",
        "林志强",
        "罗美玲",
        "梁国华",
        "宋晓东",
        "郑雪梅",
        "谢文辉",
        "韩桂英",
        "唐志勇",
        "冯玉兰",
        "于海涛",
        "董丽萍",
        "萧永康",
        "程晓丽",
        "曹建平",
        "袁美华",
        "邓志刚",
        "许晓红",
        "傅国强",
        "沈玉梅",
        "曾伟东",
        "彭丽芳",
        "吕振宇",
        "苏晓燕",
        "卢国平",
        "蒋丽琴",
        "蔡志华",
        "贾晓梅",
        "丁建华",
        "魏丽娜",
        "薛志军",
        "叶晓琳",
        "阎国庆",
        "余丽红",
        "潘志远",
        "杜晓霞",
        "戴建明",
        "夏丽君",
        "钟志成",
        "汪晓静",
        "田国伟",
        "任丽敏",
        "姜志明",
        "范晓丹",
        "方国栋",
        "石丽霞",
        "姚志新",
        "谭晓莉",
        "廖国辉",
    ]
)


@dataclass(frozen=True)
class Account:
    username: str
    role: str  # StaffRole.Role value, or "" for citizens
    department: str | None
    display_name: str = ""


def _staff_accounts() -> list[Account]:
    accounts = [
        Account("admin", StaffRole.Role.ADMINISTRATOR, "zsj", "系统管理员"),
        Account("catalog", StaffRole.Role.CATALOG_MANAGER, "zsj", "事项管理员"),
        Account("supervisor", StaffRole.Role.SUPERVISOR, "zsj", next(STAFF_NAMES)),
        Account("window", StaffRole.Role.WINDOW_CLERK, "xzfw", next(STAFF_NAMES)),
        Account("window2", StaffRole.Role.WINDOW_CLERK, "xzfw", next(STAFF_NAMES)),
        Account("window_yc", StaffRole.Role.WINDOW_CLERK, "yc_xzfw", next(STAFF_NAMES)),
    ]
    for key in OFFICE_DEPARTMENTS:
        for role in (StaffRole.Role.HANDLER, StaffRole.Role.REVIEWER, StaffRole.Role.APPROVER):
            accounts.append(Account(f"{key}_{role}", role, key, next(STAFF_NAMES)))
    return accounts


# Departments whose back offices handle demo items (each gets a handler, a reviewer and an approver).
OFFICE_DEPARTMENTS = [
    "scjg",
    "ga",
    "wsjk",
    "rs",
    "mz",
    "zj",
    "jt",
    "sw",
    "gjj",
    "zr",
    "jy",
    "yb",
    "yc_scjg",
    "yc_wsjk",
    "yc_mz",
    "yc_ga",
    "dy_scjg",
]
STAFF = _staff_accounts()


@dataclass(frozen=True)
class Citizen:
    name: str
    phone: str
    region: str
    birth: dt.date
    seq: int
    address: str

    @property
    def id_number(self) -> str:
        return make_citizen_id(self.region, self.birth, self.seq)


CITIZENS = [
    Citizen("张伟", "13800000001", "441602", dt.date(1990, 5, 12), 123, "河源市源城区建设大道128号"),
    Citizen("李娜", "13800000002", "441625", dt.date(1993, 8, 26), 246, "河源市东源县仙塘镇沿江路16号"),
]
ENTERPRISE = {
    "name": "河源市万绿湖餐饮管理有限公司",
    "uscc": make_uscc("91441602", "MA4W8K3N"),
    "legal_representative": "张伟",
    "address": "河源市源城区新风路66号",
    "region": "441602",
}

# --- the catalog -------------------------------------------------------------------------------


def m(name: str, kind: str = "original", **kw: Any) -> dict[str, Any]:
    """A material requirement (defaults: required, 1 copy, uploaded by the applicant)."""
    return {"name": name, "kind": kind, **kw}


ID_CARD = m("申请人居民身份证", "electronic", note="可通过“粤省事”电子身份证核验，免提交复印件")
BUSINESS = m(
    "营业执照",
    "electronic",
    source="licence",
    source_ref=BUSINESS_LICENCE,
    note="已领取电子营业执照的，由系统自动调取，无需上传",
)
HOUSEHOLD = m(
    "居民户口簿",
    "electronic",
    source="shared_data",
    source_ref=HOUSEHOLD_REGISTER,
    note="由人口库共享调取，无需提交",
)


def three_stages(
    handle: str = "受理审查", review: str = "审核", decide: str = "审批", shares=(30, 40, 30)
) -> list[dict]:
    return [
        {"name": handle, "kind": "handle", "role": "handler", "time_share": shares[0]},
        {"name": review, "kind": "review", "role": "reviewer", "time_share": shares[1]},
        {"name": decide, "kind": "decide", "role": "approver", "time_share": shares[2]},
    ]


def two_stages(review: str = "审核", decide: str = "办结") -> list[dict]:
    return [
        {"name": review, "kind": "review", "role": "reviewer", "time_share": 50},
        {"name": decide, "kind": "decide", "role": "approver", "time_share": 50},
    ]


def parallel_stages(first: str, group: str, reviews: list[tuple[str, str | None]], decide: str) -> list[dict]:
    """承办 → several departments review at once (one parallel group) → 决定."""
    stages: list[dict] = [{"name": first, "kind": "handle", "role": "handler", "order": 1, "time_share": 20}]
    for name, dept in reviews:
        stage = {"name": name, "kind": "review", "role": "reviewer", "order": 2, "parallel_group": group}
        stages.append({**stage, "time_share": 50, "department": dept})
    stages.append({"name": decide, "kind": "decide", "role": "approver", "order": 3, "time_share": 30})
    return stages


def f(name: str, label: str, kind: str = "text", required: bool = True, **kw: Any) -> dict[str, Any]:
    return {"name": name, "label": label, "type": kind, "required": required, **kw}


APPLICANT = [
    f("applicant_name", "申请人姓名", max_length=30),
    f("id_number", "公民身份号码", "id_number"),
    f("phone", "联系电话", "phone"),
]
ORGANISATION = [
    f("org_name", "单位名称", max_length=100),
    f("uscc", "统一社会信用代码", "uscc"),
    f("legal_representative", "法定代表人（负责人）", max_length=30),
    f("contact_phone", "联系电话", "phone"),
]
DELIVERY = f(
    "delivery",
    "结果领取方式",
    "select",
    options=[
        {"value": "post", "label": "免费邮寄"},
        {"value": "window", "label": "窗口领取"},
        {"value": "online", "label": "网上下载电子证照/文书"},
    ],
)
PLEDGE = f("pledge", "本人承诺所填信息及提交材料真实、有效", "checkbox")
BUSINESS_SCOPE = f("business_scope", "经营范围", "textarea", max_length=500)


@dataclass
class Item:
    dept: str
    base_code: str
    name: str
    item_type: str
    service_object: str
    theme: str
    keywords: str
    legal_basis: str
    conditions: str
    handling: str
    statutory_days: int
    promised_days: int
    online_depth: int
    max_visits: int
    materials: list[dict]
    stages: list[dict]
    form: list[dict]
    fee: Decimal = Decimal(0)
    fee_basis: str = ""
    result_type: str = "document"
    result_name: str = ""
    result_licence_type: str = ""
    location: str = ""
    process: str = ""
    level: str = "3"  # 行使层级: 3 市级, 4 县级


CATALOG: list[Item] = [
    # --- 市场准入 ---
    *[
        Item(
            dept=key,
            level="4",
            base_code="011700100000",
            name="个体工商户设立登记",
            item_type="01",
            service_object="person",
            theme="market",
            keywords="个体户 开店 营业执照 注册 登记 小店",
            legal_basis="《市场主体登记管理条例》（国务院令第746号）第三条、第十九条；《促进个体工商户发展条例》（国务院令第755号）",
            conditions="有经营能力的公民；有符合规定的名称、经营场所和经营范围；经营范围属于法律、行政法规规定须经批准的项目的，应当依法取得批准。",
            handling="1",
            statutory_days=3,
            promised_days=0,
            online_depth=4,
            max_visits=0,
            materials=[
                m("个体工商户登记（备案）申请书", "electronic", note="网上填报后电子签名"),
                ID_CARD,
                m(
                    "经营场所使用证明",
                    "electronic",
                    note="房屋产权证明或租赁合同；使用自有住宅经营的，提交住所（经营场所）申报承诺书",
                ),
            ],
            stages=two_stages("审核", "核准登记"),
            form=[
                f("business_name", "个体工商户名称", max_length=60, help="如：源城区张记小吃店"),
                *APPLICANT,
                f("premises", "经营场所", max_length=120),
                BUSINESS_SCOPE,
                f(
                    "organisation_form",
                    "组成形式",
                    "select",
                    options=[{"value": "individual", "label": "个人经营"}, {"value": "family", "label": "家庭经营"}],
                ),
                f("capital", "资金数额（万元）", "number", min=0, max=100000),
                f("staff", "从业人数", "number", min=1, max=1000),
                PLEDGE,
            ],
            result_type="licence",
            result_name="个体工商户营业执照",
            result_licence_type=BUSINESS_LICENCE,
            process="网上申请（或到窗口申请）→ 审核 → 当场核准登记 → 同步签发电子营业执照，纸质执照可免费邮寄。",
        )
        for key in ("yc_scjg", "dy_scjg")
    ],
    Item(
        dept="yc_scjg",
        level="4",
        base_code="011700600000",
        name="食品经营许可（新办）",
        item_type="01",
        service_object="both",
        theme="food",
        keywords="食品经营许可证 餐饮 饭店 小吃店 奶茶店 食品销售 超市",
        legal_basis="《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》（国家市场监督管理总局令第78号）",
        conditions="已取得营业执照等主体资格；具有与经营的食品品种、数量相适应的经营场所和设备设施；有专职或者兼职的食品安全管理人员和保证食品安全的规章制度；具有合理的设备布局和工艺流程。",
        handling="2",
        statutory_days=10,
        promised_days=5,
        online_depth=3,
        max_visits=1,
        materials=[
            m("食品经营许可申请书", "electronic"),
            BUSINESS,
            m("法定代表人（负责人）身份证明", "electronic"),
            m("食品经营场所和设备布局、操作流程等文件", "electronic", note="餐饮服务经营者须提交加工场所平面图"),
            m("食品安全管理制度", "electronic", note="包括从业人员健康管理、进货查验记录、食品安全自查等制度"),
            m("食品安全管理人员任命文件", "electronic", required=False, note="设置专职食品安全管理人员的提交"),
        ],
        stages=three_stages("受理审查", "现场核查", "许可决定"),
        form=[
            *ORGANISATION,
            f("premises", "经营场所", max_length=120),
            f(
                "business_type",
                "主体业态",
                "select",
                options=[
                    {"value": "sales", "label": "食品销售经营者"},
                    {"value": "catering", "label": "餐饮服务经营者"},
                    {"value": "canteen", "label": "单位食堂"},
                ],
            ),
            f("items", "经营项目", "textarea", max_length=300, help="如：热食类食品制售、冷食类食品制售"),
            f("area", "经营场所面积（平方米）", "number", min=1, max=100000),
            f("staff", "从业人数", "number", min=1, max=10000),
            DELIVERY,
            PLEDGE,
        ],
        result_type="licence",
        result_name="食品经营许可证",
        result_licence_type=FOOD_LICENCE,
        process="网上申请 → 受理审查 → 现场核查（时间不计入承诺时限）→ 许可决定 → 同步签发电子许可证。",
    ),
    Item(
        dept="scjg",
        level="3",
        base_code="011700700000",
        name="药品零售企业许可",
        item_type="01",
        service_object="organisation",
        theme="food",
        keywords="药店 药房 药品经营许可证 零售药店",
        legal_basis="《中华人民共和国药品管理法》第五十一条；《药品经营和使用质量监督管理办法》（国家市场监督管理总局令第84号）",
        conditions="有依法经过资格认定的药师或者其他药学技术人员；有与所经营药品相适应的营业场所、设备、仓储设施和卫生环境；有与所经营药品相适应的质量管理机构或者人员；有保证药品质量的规章制度。",
        handling="2",
        statutory_days=20,
        promised_days=15,
        online_depth=3,
        max_visits=1,
        materials=[
            m("药品经营许可证申请表", "electronic"),
            BUSINESS,
            m("质量负责人身份证明及执业药师注册证", "electronic"),
            m("营业场所、仓库平面布置图及房屋产权或使用权证明", "electronic"),
            m("药品质量管理文件及主要设施设备目录", "electronic"),
        ],
        stages=three_stages("受理审查", "技术审查和现场检查", "许可决定", shares=(20, 50, 30)),
        form=[
            *ORGANISATION,
            f("premises", "经营地址", max_length=120),
            f("pharmacist", "执业药师姓名", max_length=30),
            f(
                "scope",
                "经营范围",
                "select",
                options=["处方药、甲类非处方药、乙类非处方药", "乙类非处方药"],
            ),
            f("area", "营业面积（平方米）", "number", min=1, max=100000),
            DELIVERY,
            PLEDGE,
        ],
        result_name="药品经营许可证",
    ),
    Item(
        dept="scjg",
        level="3",
        base_code="011700200000",
        name="有限责任公司设立登记",
        item_type="01",
        service_object="organisation",
        theme="market",
        keywords="开公司 注册公司 企业开办 营业执照 公司登记",
        legal_basis="《中华人民共和国公司法》第二十九条；《市场主体登记管理条例》（国务院令第746号）",
        conditions="股东符合法定人数；有符合公司章程规定的全体股东认缴的出资额；股东共同制定公司章程；有公司名称，建立符合要求的组织机构；有公司住所。",
        handling="1",
        statutory_days=3,
        promised_days=0,
        online_depth=4,
        max_visits=0,
        materials=[
            m("公司登记（备案）申请书", "electronic"),
            m("公司章程", "electronic"),
            m("股东的主体资格文件或自然人身份证明", "electronic"),
            m("法定代表人、董事、监事和经理的任职文件", "electronic"),
            m("住所（经营场所）使用证明", "electronic"),
        ],
        stages=two_stages("审核", "核准登记"),
        form=[
            f("company_name", "企业名称", max_length=100),
            f("capital", "注册资本（万元）", "number", min=1, max=10000000),
            f("premises", "住所", max_length=120),
            f("legal_representative", "法定代表人", max_length=30),
            f("legal_representative_id", "法定代表人公民身份号码", "id_number"),
            f("contact_phone", "联系电话", "phone"),
            BUSINESS_SCOPE,
            f("shareholders", "股东人数", "number", min=1, max=50),
            PLEDGE,
        ],
        result_name="营业执照（企业）",
        process="企业开办“一网通办”：网上填报 → 审核 → 核准登记，同步完成公章刻制、申领发票、社保和公积金登记。",
    ),
    # --- 医疗卫生 ---
    Item(
        dept="yc_wsjk",
        level="4",
        base_code="011800100000",
        name="公共场所卫生许可（新办）",
        item_type="01",
        service_object="both",
        theme="health",
        keywords="卫生许可证 理发店 美容院 宾馆 酒店 游泳馆 公共场所",
        legal_basis="《公共场所卫生管理条例》第八条；《公共场所卫生管理条例实施细则》（原卫生部令第80号）第二十二条",
        conditions="已取得营业执照；场所选址、设计和卫生设施符合国家卫生标准和卫生规范要求；有健全的卫生管理制度和卫生管理人员；从业人员取得有效健康合格证明。",
        handling="2",
        statutory_days=20,
        promised_days=10,
        online_depth=3,
        max_visits=1,
        materials=[
            m("公共场所卫生许可申请表", "electronic"),
            BUSINESS,
            m("法定代表人或负责人身份证明", "electronic"),
            m("公共场所地址方位示意图、平面图和卫生设施平面布局图", "electronic"),
            m("公共场所卫生检测或者评价报告", "electronic"),
            m("公共场所卫生管理制度", "electronic"),
            m("从业人员健康合格证明", "electronic", note="每名从业人员一份"),
        ],
        stages=three_stages("受理审查", "现场审查", "许可决定"),
        form=[
            *ORGANISATION,
            f("premises", "经营地址", max_length=120),
            f(
                "category",
                "场所类别",
                "select",
                options=["住宿场所", "沐浴场所", "美容美发场所", "游泳场所", "文化娱乐场所", "其他"],
            ),
            f("area", "营业面积（平方米）", "number", min=1, max=1000000),
            f("staff", "从业人员数", "number", min=1, max=10000),
            DELIVERY,
            PLEDGE,
        ],
        result_type="licence",
        result_name="公共场所卫生许可证",
        result_licence_type=HYGIENE_LICENCE,
    ),
    Item(
        dept="wsjk",
        level="3",
        base_code="201800200000",
        name="出生医学证明首次签发",
        item_type="20",
        service_object="person",
        theme="health",
        keywords="出生证 新生儿 出生医学证明 宝宝 出生一件事",
        legal_basis="《中华人民共和国母婴保健法》第二十三条；《中华人民共和国母婴保健法实施办法》第二十四条",
        conditions="在本市助产机构内出生的新生儿；父母双方或一方持有效身份证件申请。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=2,
        max_visits=1,
        materials=[
            m("《出生医学证明》首次签发登记表", "original"),
            m("父母双方有效身份证件", "original"),
            m("新生儿住院分娩记录", "original", source="department", note="由助产机构出具，无需申请人提供"),
        ],
        stages=two_stages("核对信息", "签发"),
        form=[
            f("baby_name", "新生儿姓名", max_length=30),
            f("birth_date", "出生日期", "date"),
            f("gender", "性别", "select", options=["男", "女"]),
            f("mother_name", "母亲姓名", max_length=30),
            f("mother_id", "母亲公民身份号码", "id_number"),
            f("father_name", "父亲姓名", max_length=30, required=False),
            f("father_id", "父亲公民身份号码", "id_number", required=False),
            f("phone", "联系电话", "phone"),
        ],
        result_name="出生医学证明",
        location="新生儿出生的助产机构出生医学证明签发窗口",
    ),
    Item(
        dept="wsjk",
        level="3",
        base_code="011800300000",
        name="医师执业注册",
        item_type="01",
        service_object="person",
        theme="health",
        keywords="医师执业证 医生 执业注册 电子化注册",
        legal_basis="《中华人民共和国医师法》第十三条；《医师执业注册管理办法》（原国家卫生计生委令第13号）",
        conditions="取得医师资格；拟在医疗、预防、保健机构中执业；身体健康，能胜任医师工作。",
        handling="2",
        statutory_days=20,
        promised_days=5,
        online_depth=4,
        max_visits=0,
        materials=[
            m("医师执业注册申请审核表", "electronic"),
            m("近6个月二寸白底免冠正面半身照片", "electronic", formats="jpg,png"),
            m("医师资格证书", "electronic"),
            m("拟执业机构的聘用证明", "electronic"),
            m("6个月内的健康体检证明", "electronic"),
        ],
        stages=three_stages(),
        form=[
            *APPLICANT,
            f(
                "qualification_no",
                "医师资格证书编码",
                max_length=30,
                pattern="[0-9A-Za-z]{6,30}",
                pattern_message="医师资格证书编码为6至30位字母或数字",
            ),
            f("institution", "拟执业机构", max_length=100),
            f("category", "执业类别", "select", options=["临床", "中医", "口腔", "公共卫生"]),
            f("scope", "执业范围", max_length=60),
            PLEDGE,
        ],
        result_name="医师执业证书（电子证照）",
    ),
    Item(
        dept="wsjk",
        level="3",
        base_code="011800400000",
        name="护士执业注册",
        item_type="01",
        service_object="person",
        theme="health",
        keywords="护士执业证 护士 执业注册",
        legal_basis="《护士条例》第七条；《护士执业注册管理办法》（国家卫生健康委令第9号）",
        conditions="具有完全民事行为能力；在中等职业学校、高等学校完成规定的护理学历教育并取得相应学历证书；通过国家护士执业资格考试；符合规定的健康标准。",
        handling="2",
        statutory_days=20,
        promised_days=10,
        online_depth=4,
        max_visits=0,
        materials=[
            m("护士执业注册申请审核表", "electronic"),
            m("学历证书及专业学习中的临床实习证明", "electronic"),
            m("护士执业资格考试成绩合格证明", "electronic"),
            m("6个月内的健康体检证明", "electronic"),
            m("医疗卫生机构拟聘用的相关材料", "electronic"),
        ],
        stages=three_stages(),
        form=[*APPLICANT, f("institution", "拟执业机构", max_length=100), PLEDGE],
        result_name="护士执业证书（电子证照）",
    ),
    # --- 户籍办理 ---
    Item(
        dept="yc_ga",
        level="4",
        base_code="071900100000",
        name="户口登记（出生）",
        item_type="07",
        service_object="person",
        theme="household",
        keywords="新生儿落户 报户口 出生登记 上户口 出生一件事",
        legal_basis="《中华人民共和国户口登记条例》第七条",
        conditions="婴儿出生后一个月以内，由户主、亲属、抚养人或者邻居向婴儿常住地户口登记机关申报出生登记。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=3,
        max_visits=1,
        materials=[
            m("出生医学证明", "original"),
            m("父母双方居民身份证", "original"),
            HOUSEHOLD,
            m(
                "父母结婚证",
                "electronic",
                source="licence",
                source_ref=MARRIAGE_CERTIFICATE,
                note="已有电子结婚证的由系统调取，无需提交",
            ),
        ],
        stages=two_stages("审核", "登记办结"),
        form=[
            f("baby_name", "新生儿姓名", max_length=30),
            f("gender", "性别", "select", options=["男", "女"]),
            f("birth_date", "出生日期", "date"),
            f("guardian_name", "申报人姓名", max_length=30),
            f("guardian_id", "申报人公民身份号码", "id_number"),
            f("relation", "与新生儿关系", "select", options=["父亲", "母亲", "其他监护人"]),
            f("phone", "联系电话", "phone"),
            f("household_address", "落户地址", max_length=120),
        ],
        result_name="居民户口簿（出生登记页）",
        location="户籍所在地派出所户政窗口，或源城区行政服务中心公安窗口",
    ),
    Item(
        dept="yc_ga",
        level="4",
        base_code="071900200000",
        name="居住证签注",
        item_type="07",
        service_object="person",
        theme="household",
        keywords="居住证 续签 签注 延期",
        legal_basis="《居住证暂行条例》（国务院令第663号）第十四条",
        conditions="居住证持有人在居住地连续居住的，应当在居住每满一年之日前一个月内，到居住地公安派出所或者受公安机关委托的社区服务机构办理签注手续，也可通过网上办理。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=4,
        max_visits=0,
        materials=[
            m("居住证", "electronic"),
            m("居住地住址证明", "electronic", note="房屋租赁合同、房屋产权证明或单位、学校出具的住宿证明"),
            m("就业或就读证明", "electronic", required=False),
        ],
        stages=two_stages("审核", "签注"),
        form=[
            *APPLICANT,
            f("residence_permit_no", "居住证号码", max_length=30),
            f("address", "居住地址", max_length=120),
        ],
        result_name="居住证签注（电子）",
    ),
    Item(
        dept="yc_ga",
        level="4",
        base_code="071900300000",
        name="居住证申领",
        item_type="07",
        service_object="person",
        theme="household",
        keywords="居住证 办理居住证 外来人员",
        legal_basis="《居住证暂行条例》（国务院令第663号）第二条、第九条",
        conditions="离开常住户口所在地，到本市居住半年以上，符合有合法稳定就业、合法稳定住所、连续就读条件之一的公民。",
        handling="2",
        statutory_days=15,
        promised_days=10,
        online_depth=3,
        max_visits=1,
        materials=[
            m("居民身份证", "original"),
            m("本人近期白底证件照片", "electronic", formats="jpg"),
            m("居住地住址证明", "copy"),
            m("就业、就读等证明材料", "copy"),
        ],
        stages=three_stages("受理审查", "审核", "制证发放"),
        form=[*APPLICANT, f("address", "居住地址", max_length=120), DELIVERY],
        result_name="居住证",
    ),
    Item(
        dept="yc_ga",
        level="4",
        base_code="071900400000",
        name="居民身份证换领（有效期满）",
        item_type="07",
        service_object="person",
        theme="household",
        keywords="身份证 换证 到期 过期 身份证换领",
        legal_basis="《中华人民共和国居民身份证法》第五条、第九条",
        conditions="居民身份证有效期满前三个月内或有效期满后，本人到户籍所在地或居住地公安机关申请换领。",
        handling="2",
        statutory_days=60,
        promised_days=20,
        online_depth=2,
        max_visits=1,
        fee=Decimal("20"),
        fee_basis=(
            "《国家发展改革委 财政部关于居民身份证收费标准及有关问题的通知》（发改价格〔2003〕2322号），"
            "换领工本费每证20元"
        ),
        materials=[
            m("原居民身份证", "original"),
            HOUSEHOLD,
            m("本人数码相片", "electronic", note="可在受理窗口现场采集"),
        ],
        stages=three_stages("受理采集", "审核", "制证签发"),
        form=[*APPLICANT, DELIVERY],
        result_name="居民身份证",
        location="户籍所在地派出所户政窗口",
    ),
    # --- 交通出行 ---
    Item(
        dept="ga",
        level="3",
        base_code="012000100000",
        name="机动车驾驶证有效期满换证",
        item_type="01",
        service_object="person",
        theme="transport",
        keywords="驾照 驾驶证 换证 到期 交管12123",
        legal_basis="《中华人民共和国道路交通安全法实施条例》第二十六条；《机动车驾驶证申领和使用规定》（公安部令第162号）第七十条",
        conditions="机动车驾驶人应当于机动车驾驶证有效期满前九十日内申请换证，身体条件符合申请驾驶车型的要求。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=4,
        max_visits=0,
        fee=Decimal("10"),
        fee_basis="《国家发展改革委 财政部关于公安交通管理收费标准的通知》规定的机动车驾驶证工本费，每证10元",
        materials=[
            m("机动车驾驶证", "electronic"),
            m("县级或者部队团级以上医疗机构出具的身体条件证明", "electronic", note="已在联网医疗机构体检的由系统调取"),
            m("本人近期白底证件照片", "electronic", formats="jpg"),
        ],
        stages=two_stages("审核", "换证办结"),
        form=[*APPLICANT, f("licence_no", "驾驶证档案编号", max_length=20), DELIVERY],
        result_name="机动车驾驶证（邮寄送达）",
        process="交管12123 或本平台网上申请 → 审核 → 办结 → 新驾驶证免费邮寄到家，全程不用跑现场。",
    ),
    Item(
        dept="ga",
        level="3",
        base_code="072000200000",
        name="机动车转移登记（二手车交易）",
        item_type="07",
        service_object="both",
        theme="transport",
        keywords="二手车 过户 车辆转移登记 买卖车辆",
        legal_basis="《中华人民共和国道路交通安全法》第十二条；《机动车登记规定》（公安部令第164号）第二十五条",
        conditions="已登记的机动车所有权发生转移，现机动车所有人住所在车辆管理所管辖区域内，车辆经查验合格。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=3,
        max_visits=1,
        materials=[
            m("机动车登记证书", "original"),
            m("机动车行驶证", "original"),
            m("二手车销售统一发票", "original"),
            m("现机动车所有人身份证明", "original"),
            m("机动车查验记录表", "original", source="department", note="车辆查验后由车管所生成"),
        ],
        stages=three_stages("查验受理", "审核", "登记办结"),
        form=[
            *APPLICANT,
            f("plate", "号牌号码", pattern="粤[A-Z][A-Z0-9]{5,6}", pattern_message="号牌号码格式如：粤P12345"),
            f("vin", "车辆识别代号（后6位）", pattern="[A-Z0-9]{6}", pattern_message="请填写车辆识别代号后6位"),
            f("price", "成交价格（元）", "number", min=0),
        ],
        result_name="机动车登记证书（转移登记）、行驶证",
        location="河源市公安局交通警察支队车辆管理所",
    ),
    Item(
        dept="jt",
        level="3",
        base_code="012100100000",
        name="道路运输经营许可（道路普通货物运输）",
        item_type="01",
        service_object="both",
        theme="transport",
        keywords="道路运输经营许可证 货运 物流 运输公司 货车",
        legal_basis="《中华人民共和国道路运输条例》第二十一条、第二十四条；《道路货物运输及站场管理规定》（交通运输部令2023年第12号）",
        conditions="有与其经营业务相适应并经检测合格的车辆；有符合规定条件的驾驶人员；有健全的安全生产管理制度。",
        handling="2",
        statutory_days=20,
        promised_days=5,
        online_depth=3,
        max_visits=1,
        materials=[
            m("道路货物运输经营申请表", "electronic"),
            BUSINESS,
            m("负责人身份证明", "electronic"),
            m("机动车辆行驶证及车辆技术等级评定结论", "electronic"),
            m("拟聘用驾驶人员的机动车驾驶证及从业资格证", "electronic"),
            m("安全生产管理制度文本", "electronic"),
        ],
        stages=three_stages("受理审查", "审核", "许可决定"),
        form=[
            *ORGANISATION,
            f("vehicles", "营运车辆数", "number", min=1, max=10000),
            f("drivers", "驾驶人员数", "number", min=1, max=10000),
            DELIVERY,
            PLEDGE,
        ],
        result_type="licence",
        result_name="道路运输经营许可证",
        result_licence_type=ROAD_TRANSPORT_LICENCE,
    ),
    # --- 婚姻登记、民政 ---
    Item(
        dept="yc_mz",
        level="4",
        base_code="072200100000",
        name="内地居民结婚登记",
        item_type="07",
        service_object="person",
        theme="marriage",
        keywords="结婚 领证 结婚证 婚姻登记 预约",
        legal_basis="《中华人民共和国民法典》第一千零四十九条；《婚姻登记条例》第四条、第五条、第七条",
        conditions="男女双方自愿结婚，均达到法定婚龄（男不早于二十二周岁，女不早于二十周岁），双方均无配偶，且无直系血亲和三代以内旁系血亲关系；双方须共同到场办理。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=2,
        max_visits=1,
        materials=[
            HOUSEHOLD,
            m("双方居民身份证", "original"),
            m("双方近期半身免冠合影照片", "original", copies=3, note="2寸红底合影"),
            m(
                "双方签署的《申请结婚登记声明书》",
                "original",
                source="department",
                note="现场由婚姻登记员打印、当事人签名",
            ),
        ],
        stages=two_stages("审查", "登记颁证"),
        form=[
            f("groom_name", "男方姓名", max_length=30),
            f("groom_id", "男方公民身份号码", "id_number"),
            f("bride_name", "女方姓名", max_length=30),
            f("bride_id", "女方公民身份号码", "id_number"),
            f("phone", "联系电话", "phone"),
            f("appointment", "预约登记日期", "date"),
            f("declaration", "双方承诺均无配偶，且无禁止结婚的亲属关系", "checkbox"),
        ],
        result_type="licence",
        result_name="结婚证",
        result_licence_type=MARRIAGE_CERTIFICATE,
        location="源城区婚姻登记处（源城区行政服务中心二楼）",
    ),
    Item(
        dept="yc_mz",
        level="4",
        base_code="052200200000",
        name="最低生活保障审核确认",
        item_type="05",
        service_object="person",
        theme="civil_affairs",
        keywords="低保 最低生活保障 困难家庭 救助",
        legal_basis="《社会救助暂行办法》（国务院令第649号）第九条至第十一条；《最低生活保障审核确认办法》（民发〔2021〕57号）",
        conditions="持有本地户籍，共同生活的家庭成员人均收入低于当地最低生活保障标准，且家庭财产状况符合当地规定。",
        handling="2",
        statutory_days=30,
        promised_days=20,
        online_depth=3,
        max_visits=1,
        materials=[
            m("最低生活保障申请书", "electronic"),
            m("家庭成员居民身份证", "electronic"),
            HOUSEHOLD,
            m("家庭经济状况声明及信息查询授权书", "original", note="家庭成员签名"),
            m("收入证明、残疾证、病历等相关证明", "electronic", required=False, note="有相关情形的提交"),
        ],
        stages=three_stages("乡镇（街道）受理", "入户调查和民主评议", "县级民政部门审核确认"),
        form=[
            *APPLICANT,
            f("members", "共同生活家庭成员人数", "number", min=1, max=30),
            f("monthly_income", "家庭月总收入（元）", "number", min=0),
            f("reason", "申请理由", "textarea", max_length=500),
            f("bank_account", "收款银行账号", pattern="[0-9]{12,19}", pattern_message="银行账号为12至19位数字"),
            PLEDGE,
        ],
        result_name="最低生活保障审核确认决定书",
        process=(
            "向户籍所在地乡镇（街道）申请 → 家庭经济状况核对、入户调查 → 民主评议和公示 → "
            "县级民政部门审核确认，按月发放低保金。"
        ),
    ),
    Item(
        dept="yc_mz",
        level="4",
        base_code="052200300000",
        name="特困人员救助供养审核确认",
        item_type="05",
        service_object="person",
        theme="civil_affairs",
        keywords="特困 五保 救助供养 无劳动能力",
        legal_basis="《社会救助暂行办法》（国务院令第649号）第十四条；《特困人员认定办法》（民发〔2021〕43号）",
        conditions="老年人、残疾人以及未满十六周岁的未成年人，无劳动能力、无生活来源，且无法定赡养、抚养、扶养义务人或者其法定义务人无履行义务能力。",
        handling="2",
        statutory_days=20,
        promised_days=15,
        online_depth=3,
        max_visits=1,
        materials=[m("特困人员救助供养申请书", "original"), m("申请人居民身份证", "electronic"), HOUSEHOLD],
        stages=three_stages("乡镇（街道）受理", "调查核实", "县级民政部门审核确认"),
        form=[*APPLICANT, f("reason", "申请理由", "textarea", max_length=500), PLEDGE],
        result_name="特困人员救助供养审核确认决定书",
    ),
    Item(
        dept="mz",
        level="3",
        base_code="012200400000",
        name="社会团体成立登记",
        item_type="01",
        service_object="organisation",
        theme="civil_affairs",
        keywords="社团 协会 学会 商会 社会组织",
        legal_basis="《社会团体登记管理条例》第九条、第十二条",
        conditions="有50个以上的个人会员或者30个以上的单位会员；有规范的名称和相应的组织机构；有固定的住所；有与其业务活动相适应的专职工作人员；有合法的资产和经费来源，全国性社会团体有10万元以上活动资金，地方性社会团体和跨行政区域的社会团体有3万元以上活动资金。",
        handling="2",
        statutory_days=60,
        promised_days=30,
        online_depth=3,
        max_visits=1,
        materials=[
            m("社会团体成立登记申请书", "electronic"),
            m("业务主管单位的批准文件", "electronic"),
            m("章程草案", "electronic"),
            m("验资报告", "electronic"),
            m("住所使用权证明", "electronic"),
            m("拟任负责人的基本情况和身份证明", "electronic"),
        ],
        stages=three_stages("受理审查", "审核", "登记决定"),
        form=[
            f("org_name", "社会团体名称", max_length=100),
            f("members", "会员数", "number", min=30, max=100000),
            f("funds", "活动资金（万元）", "number", min=3),
            f("premises", "住所", max_length=120),
            f("contact", "联系人", max_length=30),
            f("contact_phone", "联系电话", "phone"),
            PLEDGE,
        ],
        result_name="社会团体法人登记证书",
    ),
    # --- 社会保障、就业 ---
    Item(
        dept="rs",
        level="3",
        base_code="202300100000",
        name="社会保障卡申领",
        item_type="20",
        service_object="person",
        theme="social_security",
        keywords="社保卡 社会保障卡 办卡 电子社保卡",
        legal_basis="《中华人民共和国社会保险法》第五十八条",
        conditions="参加本市社会保险或在本市有户籍、居住的人员，首次申领社会保障卡。",
        handling="2",
        statutory_days=20,
        promised_days=10,
        online_depth=4,
        max_visits=0,
        materials=[ID_CARD, m("本人近期白底免冠数码照片", "electronic", formats="jpg", note="可通过手机拍照上传")],
        stages=two_stages("审核", "制卡发放"),
        form=[
            *APPLICANT,
            f(
                "bank",
                "金融功能合作银行",
                "select",
                options=["中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "中国邮政储蓄银行", "广东农信"],
            ),
            DELIVERY,
            f("post_address", "邮寄地址", max_length=120, required=False),
        ],
        result_name="社会保障卡（实体卡邮寄，电子社保卡同步签发）",
    ),
    Item(
        dept="rs",
        level="3",
        base_code="202300200000",
        name="失业登记",
        item_type="20",
        service_object="person",
        theme="employment",
        keywords="失业 登记失业 找工作 就业服务",
        legal_basis="《中华人民共和国就业促进法》第四十二条；《就业服务与就业管理规定》（原劳动和社会保障部令第28号）第六十一条至第六十三条",
        conditions="法定劳动年龄内、有劳动能力、有就业要求、处于无业状态的城乡劳动者。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=4,
        max_visits=0,
        materials=[ID_CARD, m("与原单位终止、解除劳动关系的证明", "electronic", required=False)],
        stages=two_stages("审核", "登记办结"),
        form=[
            *APPLICANT,
            f("former_employer", "原工作单位", max_length=100, required=False),
            f("reason", "失业原因", "select", options=["劳动合同期满", "单位解除劳动合同", "个人辞职", "其他"]),
            f("job_wanted", "求职意向", max_length=100, required=False),
        ],
        result_name="失业登记（电子记录）",
    ),
    Item(
        dept="rs",
        level="3",
        base_code="202300300000",
        name="就业创业证申领",
        item_type="20",
        service_object="person",
        theme="employment",
        keywords="就业创业证 就业失业登记证 创业补贴",
        legal_basis="《人力资源社会保障部关于进一步完善就业失业登记管理办法的通知》（人社部发〔2014〕97号）",
        conditions="在法定劳动年龄内、有劳动能力的城乡劳动者，可申领《就业创业证》。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=4,
        max_visits=0,
        materials=[ID_CARD],
        stages=two_stages("审核", "发证"),
        form=[
            *APPLICANT,
            f("education", "文化程度", "select", options=["初中及以下", "高中/中专", "大专", "本科", "研究生"]),
        ],
        result_name="就业创业证（电子证）",
    ),
    Item(
        dept="rs",
        level="3",
        base_code="202300400000",
        name="城镇职工基本养老保险关系转移接续",
        item_type="20",
        service_object="person",
        theme="social_security",
        keywords="养老保险转移 社保转移 跨省转移 养老保险关系",
        legal_basis="《中华人民共和国社会保险法》第十九条；《城镇企业职工基本养老保险关系转移接续暂行办法》（国办发〔2009〕66号）",
        conditions="参加城镇企业职工基本养老保险的人员跨省、市流动就业的，在新就业地参保后申请转移接续。",
        handling="2",
        statutory_days=45,
        promised_days=30,
        online_depth=4,
        max_visits=0,
        materials=[
            ID_CARD,
            m(
                "基本养老保险参保缴费凭证",
                "electronic",
                source="department",
                note="由转出地社保经办机构通过全国社会保险关系转移系统传送，无需申请人提供",
            ),
        ],
        stages=three_stages("受理", "联系函出具和信息核对", "转移接续办结", shares=(20, 60, 20)),
        form=[*APPLICANT, f("from_region", "原参保地", max_length=60), f("to_employer", "现就业单位", max_length=100)],
        result_name="基本养老保险关系转移接续完成（电子通知）",
    ),
    Item(
        dept="rs",
        level="3",
        base_code="052300500000",
        name="失业保险金申领",
        item_type="05",
        service_object="person",
        theme="social_security",
        keywords="失业金 失业保险金 失业补助",
        legal_basis="《失业保险条例》第十四条、第十六条；《失业保险金申领发放办法》（原劳动和社会保障部令第8号）",
        conditions="失业前用人单位和本人已经缴纳失业保险费满一年的；非因本人意愿中断就业的；已经进行失业登记，并有求职要求的。",
        handling="2",
        statutory_days=10,
        promised_days=5,
        online_depth=4,
        max_visits=0,
        materials=[ID_CARD, m("社会保障卡或银行账户信息", "electronic")],
        stages=three_stages("受理", "资格审核", "核定发放"),
        form=[
            *APPLICANT,
            f("bank_account", "收款银行账号", pattern="[0-9]{12,19}", pattern_message="银行账号为12至19位数字"),
            PLEDGE,
        ],
        result_name="失业保险金核定通知",
    ),
    Item(
        dept="rs",
        level="3",
        base_code="072300600000",
        name="工伤认定",
        item_type="07",
        service_object="both",
        theme="social_security",
        keywords="工伤 工伤认定 工伤保险",
        legal_basis="《工伤保险条例》第十七条至第二十条；《工伤认定办法》（人力资源社会保障部令第8号）",
        conditions="职工发生事故伤害或者被诊断、鉴定为职业病，所在单位应当自事故伤害发生之日起30日内提出工伤认定申请；单位未提出的，工伤职工或者其近亲属可在1年内提出。",
        handling="2",
        statutory_days=60,
        promised_days=30,
        online_depth=3,
        max_visits=1,
        materials=[
            m("工伤认定申请表", "electronic"),
            m("与用人单位存在劳动关系的证明材料", "electronic"),
            m("医疗诊断证明或者职业病诊断证明书", "electronic"),
        ],
        stages=three_stages("受理审查", "调查核实", "认定决定", shares=(20, 50, 30)),
        form=[
            *APPLICANT,
            f("employer", "用人单位", max_length=100),
            f("accident_date", "事故发生日期", "date"),
            f("description", "事故经过", "textarea", max_length=1000),
        ],
        result_name="认定工伤决定书",
    ),
    # --- 住房公积金 ---
    Item(
        dept="gjj",
        level="3",
        base_code="202400100000",
        name="住房公积金提取（购买自住住房）",
        item_type="20",
        service_object="person",
        theme="housing_fund",
        keywords="公积金提取 买房 公积金 提取",
        legal_basis="《住房公积金管理条例》第二十四条、第二十五条",
        conditions="购买具有所有权的自住住房，在购房之日起规定期限内提取本人及配偶住房公积金账户余额。",
        handling="1",
        statutory_days=3,
        promised_days=0,
        online_depth=4,
        max_visits=0,
        materials=[
            ID_CARD,
            m("购房合同或不动产权证书", "electronic"),
            m("购房发票或契税完税凭证", "electronic"),
            m("本人银行借记卡", "electronic"),
        ],
        stages=two_stages("审核", "提取办结"),
        form=[
            *APPLICANT,
            f("purpose", "提取原因", "select", options=["购买新建商品房", "购买二手房", "自建住房"]),
            f("amount", "提取金额（元）", "number", min=1),
            f("bank_account", "收款银行账号", pattern="[0-9]{12,19}", pattern_message="银行账号为12至19位数字"),
        ],
        result_name="提取款项转入本人银行账户",
    ),
    Item(
        dept="gjj",
        level="3",
        base_code="202400200000",
        name="住房公积金单位缴存登记",
        item_type="20",
        service_object="organisation",
        theme="housing_fund",
        keywords="公积金开户 单位开户 缴存登记 企业开办",
        legal_basis="《住房公积金管理条例》第十四条、第十五条",
        conditions="新设立的单位应当自设立之日起30日内到住房公积金管理中心办理住房公积金缴存登记。",
        handling="1",
        statutory_days=5,
        promised_days=0,
        online_depth=4,
        max_visits=0,
        materials=[m("住房公积金单位缴存登记表", "electronic"), BUSINESS, m("经办人居民身份证", "electronic")],
        stages=two_stages("审核", "登记办结"),
        form=[
            *ORGANISATION,
            f("employees", "职工人数", "number", min=1),
            f("rate", "缴存比例（%）", "number", min=5, max=12),
        ],
        result_name="住房公积金单位登记信息",
    ),
    # --- 工程建设、不动产 ---
    Item(
        dept="zj",
        level="3",
        base_code="012500100000",
        name="建筑工程施工许可证核发",
        item_type="01",
        service_object="organisation",
        theme="construction",
        keywords="施工许可 建筑工程 开工 工程建设项目审批",
        legal_basis="《中华人民共和国建筑法》第七条、第八条；《建筑工程施工许可管理办法》（住房和城乡建设部令第18号）",
        conditions="已经办理用地批准手续；已经取得建设工程规划许可证；施工场地已经基本具备施工条件；已经确定施工企业；有满足施工需要的资金安排、施工图纸及技术资料；有保证工程质量和安全的具体措施。",
        handling="2",
        statutory_days=7,
        promised_days=3,
        online_depth=3,
        max_visits=1,
        materials=[
            m("建筑工程施工许可证申请表", "electronic"),
            m("建设工程规划许可证", "electronic", source="department", note="由自然资源部门共享，无需提交"),
            m("施工合同", "electronic"),
            m("施工图设计文件审查合格书", "electronic"),
            m("工程质量安全监督手续", "electronic"),
            m("建设资金已经落实承诺书", "electronic"),
        ],
        stages=parallel_stages(
            "受理审查", "施工许可联合审查", [("施工条件审查", None), ("规划核验", "zr")], "核发施工许可证"
        ),
        form=[
            *ORGANISATION,
            f("project", "工程名称", max_length=120),
            f("address", "建设地址", max_length=120),
            f("area", "建筑面积（平方米）", "number", min=1),
            f("contract_price", "合同价格（万元）", "number", min=0),
            f("contractor", "施工单位", max_length=100),
            f("start_date", "计划开工日期", "date"),
            PLEDGE,
        ],
        result_name="建筑工程施工许可证",
        process=(
            "工程建设项目审批管理系统一网申报 → 受理 → 住建部门与自然资源部门并联审查 → 核发施工许可证（电子证照）。"
        ),
    ),
    Item(
        dept="zj",
        level="3",
        base_code="012500200000",
        name="商品房预售许可",
        item_type="01",
        service_object="organisation",
        theme="construction",
        keywords="预售证 商品房 楼盘 预售许可证",
        legal_basis="《中华人民共和国城市房地产管理法》第四十五条；《城市商品房预售管理办法》（建设部令第131号）",
        conditions="已交付全部土地使用权出让金，取得土地使用权证书；持有建设工程规划许可证和施工许可证；按提供预售的商品房计算，投入开发建设的资金达到工程建设总投资的25%以上，并已确定施工进度和竣工交付日期。",
        handling="2",
        statutory_days=10,
        promised_days=7,
        online_depth=3,
        max_visits=1,
        materials=[
            m("商品房预售许可申请表", "electronic"),
            BUSINESS,
            m("房地产开发企业资质证书", "electronic"),
            m("不动产权证书（土地）", "electronic"),
            m("建设工程规划许可证和施工许可证", "electronic"),
            m("工程施工合同及投资进度证明", "electronic"),
            m("商品房预售方案", "electronic"),
        ],
        stages=three_stages("受理审查", "现场查勘和审核", "许可决定"),
        form=[
            *ORGANISATION,
            f("project", "项目名称", max_length=120),
            f("area", "预售面积（平方米）", "number", min=1),
            f("units", "预售套数", "number", min=1),
            PLEDGE,
        ],
        result_name="商品房预售许可证",
    ),
    Item(
        dept="zr",
        level="3",
        base_code="012600100000",
        name="建设工程规划许可证核发",
        item_type="01",
        service_object="organisation",
        theme="construction",
        keywords="规划许可 建设工程规划许可证 规划",
        legal_basis="《中华人民共和国城乡规划法》第四十条",
        conditions="已取得建设用地规划许可或土地使用权；建设工程设计方案符合控制性详细规划和规划条件。",
        handling="2",
        statutory_days=20,
        promised_days=10,
        online_depth=3,
        max_visits=1,
        materials=[
            m("建设工程规划许可申请表", "electronic"),
            m("使用土地的有关证明文件", "electronic"),
            m("建设工程设计方案", "electronic"),
            m("总平面图", "electronic"),
        ],
        stages=three_stages("受理审查", "技术审查", "许可决定"),
        form=[
            *ORGANISATION,
            f("project", "项目名称", max_length=120),
            f("area", "总建筑面积（平方米）", "number", min=1),
        ],
        result_name="建设工程规划许可证",
    ),
    Item(
        dept="zr",
        level="3",
        base_code="072600200000",
        name="不动产转移登记（二手房买卖）",
        item_type="07",
        service_object="both",
        theme="other",
        keywords="房产过户 二手房 不动产登记 房产证 转移登记",
        legal_basis="《中华人民共和国民法典》第二百零九条；《不动产登记暂行条例》第十四条、第二十条",
        conditions="已登记的不动产因买卖发生所有权转移，买卖双方共同申请；涉及税费的已依法缴纳。",
        handling="2",
        statutory_days=30,
        promised_days=5,
        online_depth=3,
        max_visits=1,
        fee=Decimal("80"),
        fee_basis=(
            "《国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知》（发改价格规〔2016〕2559号），"
            "住宅类每件80元"
        ),
        materials=[
            m("不动产登记申请书", "original"),
            m("买卖双方身份证明", "original"),
            m("不动产权证书", "original"),
            m("不动产买卖合同", "original"),
            m("完税凭证", "electronic", source="department", note="税务部门完税后同步推送"),
        ],
        stages=parallel_stages(
            "受理",
            "登记与税费联办",
            [("登记审核", None), ("税费核定", "sw")],
            "登簿发证",
        ),
        form=[
            f("seller_name", "出卖人姓名（名称）", max_length=100),
            f("seller_id", "出卖人公民身份号码", "id_number"),
            f("buyer_name", "买受人姓名", max_length=30),
            f("buyer_id", "买受人公民身份号码", "id_number"),
            f("phone", "联系电话", "phone"),
            f("certificate_no", "不动产权证书号", max_length=40),
            f("price", "成交价格（万元）", "number", min=0),
        ],
        result_name="不动产权证书（电子证照同步生成）",
        location="河源市不动产登记中心（河源市行政服务中心三楼）",
        process="买卖双方网上预约 → 一窗受理（登记、税务联办）→ 登记审核与税费核定并联办理 → 缴税缴费 → 登簿发证。",
    ),
    # --- 税费办理 ---
    Item(
        dept="sw",
        level="3",
        base_code="202700100000",
        name="开具个人所得税纳税记录",
        item_type="20",
        service_object="person",
        theme="tax",
        keywords="个税 纳税证明 完税证明 纳税记录",
        legal_basis="《国家税务总局关于将个人所得税〈税收完税证明〉（文书式）调整为〈纳税记录〉有关事项的公告》（国家税务总局公告2018年第55号）",
        conditions="在中国境内负有个人所得税纳税义务的纳税人。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=4,
        max_visits=0,
        materials=[ID_CARD],
        stages=two_stages("核对", "开具"),
        form=[*APPLICANT, f("from_month", "起始所属期", "date"), f("to_month", "截止所属期", "date")],
        result_name="个人所得税纳税记录（电子，带校验码）",
    ),
    Item(
        dept="sw",
        level="3",
        base_code="102700200000",
        name="增值税一般纳税人登记",
        item_type="10",
        service_object="organisation",
        theme="tax",
        keywords="一般纳税人 增值税 纳税人登记 发票",
        legal_basis="《中华人民共和国增值税暂行条例》第十三条；《增值税一般纳税人登记管理办法》（国家税务总局令第43号）",
        conditions="年应税销售额超过规定标准的纳税人，或会计核算健全、能够提供准确税务资料的纳税人。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=4,
        max_visits=0,
        materials=[m("增值税一般纳税人登记表", "electronic"), BUSINESS],
        stages=two_stages("审核", "登记办结"),
        form=[
            *ORGANISATION,
            f("effective_date", "一般纳税人资格生效之日", "date"),
            f("sales", "年应税销售额（万元）", "number", min=0),
        ],
        result_name="税务事项通知书",
    ),
    # --- 教育 ---
    Item(
        dept="jy",
        level="3",
        base_code="012800100000",
        name="教师资格认定（高级中学、中等职业学校）",
        item_type="01",
        service_object="person",
        theme="education",
        keywords="教师资格证 认定 教资 老师",
        legal_basis="《中华人民共和国教师法》第十条至第十三条；《教师资格条例》；《〈教师资格条例〉实施办法》（教育部令第10号）",
        conditions="遵守宪法和法律，热爱教育事业；具备规定的学历；普通话水平达到二级乙等以上；身体健康，通过教师资格考试。",
        handling="2",
        statutory_days=30,
        promised_days=20,
        online_depth=3,
        max_visits=1,
        materials=[
            m("教师资格认定申请表", "electronic"),
            m("身份证明", "electronic"),
            m("学历证书", "electronic", note="学信网可查验的无需上传"),
            m("普通话水平测试等级证书", "electronic"),
            m("指定医院出具的体格检查表", "original"),
            m("中小学教师资格考试合格证明", "electronic"),
        ],
        stages=three_stages("受理审查", "专家审查", "认定决定"),
        form=[
            *APPLICANT,
            f("subject", "任教学科", max_length=30),
            f("kind", "资格种类", "select", options=["高级中学教师资格", "中等职业学校教师资格"]),
            f("putonghua", "普通话等级", "select", options=["一级甲等", "一级乙等", "二级甲等", "二级乙等"]),
        ],
        result_name="教师资格证书",
    ),
    # --- 医疗保障 ---
    Item(
        dept="yb",
        level="3",
        base_code="202900100000",
        name="城乡居民基本医疗保险参保登记",
        item_type="20",
        service_object="person",
        theme="social_security",
        keywords="医保 参保 城乡居民医保 新生儿参保",
        legal_basis="《中华人民共和国社会保险法》第二十五条；《医疗保障经办管理服务规定》",
        conditions="未参加职工基本医疗保险的本市户籍居民、持居住证的非本市户籍居民及在校学生。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=4,
        max_visits=0,
        materials=[ID_CARD, HOUSEHOLD],
        stages=two_stages("审核", "参保登记"),
        form=[*APPLICANT, f("category", "参保人员类别", "select", options=["城乡居民", "在校学生", "新生儿", "其他"])],
        result_name="参保登记（电子记录）",
    ),
    Item(
        dept="yb",
        level="3",
        base_code="202900200000",
        name="跨省异地就医备案",
        item_type="20",
        service_object="person",
        theme="social_security",
        keywords="异地就医 备案 异地安置 外地看病",
        legal_basis=(
            "《国家医保局 财政部关于进一步做好基本医疗保险跨省异地就医直接结算工作的通知》（医保发〔2022〕22号）"
        ),
        conditions="参加本市基本医疗保险，异地长期居住或临时外出就医的参保人员。",
        handling="1",
        statutory_days=1,
        promised_days=0,
        online_depth=4,
        max_visits=0,
        materials=[ID_CARD, m("个人承诺书", "electronic", source="department", note="网上申请时在线签署")],
        stages=two_stages("审核", "备案办结"),
        form=[
            *APPLICANT,
            f("kind", "备案类型", "select", options=["异地长期居住", "临时外出就医", "异地转诊"]),
            f("place", "就医地", max_length=60),
            f("start_date", "开始日期", "date"),
        ],
        result_name="异地就医备案（电子凭证）",
    ),
]


def _version_fields(spec: Item) -> dict[str, Any]:
    region = DEPT[spec.dept].region
    return {
        "name": spec.name,
        "item_type": spec.item_type,
        "service_object": spec.service_object,
        "theme": spec.theme,
        "keywords": spec.keywords,
        "legal_basis": spec.legal_basis,
        "conditions": spec.conditions,
        "handling": spec.handling,
        "statutory_days": spec.statutory_days,
        "promised_days": spec.promised_days,
        "acceptance_days": 0 if spec.handling == "1" else 5,
        "fee": spec.fee,
        "fee_basis": spec.fee_basis if spec.fee else (spec.fee_basis or "依法不收费。"),
        "fee_before_completion": bool(spec.fee),
        "online_depth": spec.online_depth,
        "max_visits": spec.max_visits,
        "location": spec.location or LOCATIONS[region],
        "hours": HOURS,
        "consult_phone": HOTLINE,
        "complaint_phone": HOTLINE,
        "process_description": spec.process,
        "result_type": spec.result_type,
        "result_name": spec.result_name,
        "result_licence_type": spec.result_licence_type,
        "form_schema": spec.form,
    }


def item_code(spec: Item) -> str:
    return services.implementation_code(DEPT[spec.dept].credit_code, spec.level, spec.base_code)


# --- loading -----------------------------------------------------------------------------------


def _regions() -> None:
    for code, name, level, parent in REGIONS:
        Region.objects.update_or_create(code=code, defaults={"name": name, "level": level, "parent_id": parent})


def _departments() -> dict[str, Department]:
    out: dict[str, Department] = {}
    for d in DEPARTMENTS:
        out[d.key], _ = Department.objects.update_or_create(
            credit_code=d.credit_code,
            defaults={
                "name": d.name,
                "short_name": d.short_name,
                "region_id": d.region,
                "parent": out.get(d.parent) if d.parent else None,
                "address": LOCATIONS[d.region].replace("综合受理窗口", ""),
                "phone": HOTLINE,
            },
        )
    return out


def _catalog_group() -> Group:
    group, _ = Group.objects.get_or_create(name=CATALOG_GROUP)
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="catalog")
        | Permission.objects.filter(content_type__app_label="identity", codename__startswith="view_")
    )
    return group


def _accounts(departments: dict[str, Department], password_hash: str) -> int:
    created = 0
    group = _catalog_group()
    for account in STAFF:
        user, new = User.objects.get_or_create(
            username=account.username,
            defaults={
                "display_name": account.display_name,
                "password": password_hash,
                "is_staff": account.role in (StaffRole.Role.ADMINISTRATOR, StaffRole.Role.CATALOG_MANAGER),
                "is_superuser": account.role == StaffRole.Role.ADMINISTRATOR,
            },
        )
        created += new
        if account.role == StaffRole.Role.CATALOG_MANAGER:
            user.groups.add(group)
        StaffRole.objects.get_or_create(user=user, department=departments[account.department], role=account.role)
    for citizen in CITIZENS:
        number = normalize(citizen.id_number)
        person = NaturalPerson.objects.filter(id_digest=blind_index(number)).first()
        if person is None:
            user, new = User.objects.get_or_create(
                username=citizen.phone,
                defaults={"phone": citizen.phone, "display_name": citizen.name, "password": password_hash},
            )
            created += new
            NaturalPerson.objects.create(
                name=citizen.name,
                id_number=number,
                phone=citizen.phone,
                address=citizen.address,
                region_id=citizen.region,
                user=user,
                assurance_level=3,
            )
    organisation, _ = LegalPerson.objects.get_or_create(
        uscc=ENTERPRISE["uscc"],
        defaults={
            "name": ENTERPRISE["name"],
            "legal_representative": ENTERPRISE["legal_representative"],
            "address": ENTERPRISE["address"],
            "region_id": ENTERPRISE["region"],
        },
    )
    agent = NaturalPerson.objects.get(id_digest=blind_index(normalize(CITIZENS[0].id_number)))
    AgentAuthorization.objects.get_or_create(person=agent, organisation=organisation)
    return created


def _items(departments: dict[str, Department]) -> int:
    created = 0
    for spec in CATALOG:
        if ServiceItem.objects.filter(code=item_code(spec)).exists():
            continue
        with transaction.atomic():
            item = services.create_item(
                base_code=spec.base_code, department=departments[spec.dept], exercise_level=spec.level, actor=ACTOR
            )
            stages = [
                {**s, "department": departments[s["department"]] if s.get("department") else None} for s in spec.stages
            ]
            draft = services.create_draft(
                item,
                actor=ACTOR,
                materials=[dict(material) for material in spec.materials],
                stages=stages,
                **_version_fields(spec),
            )
            services.publish(draft, actor=ACTOR)
        created += 1
    return created


def published_moment() -> dt.datetime:
    """When the demo catalog was published: half a year ago, so that demo cases can be filed weeks back
    under versions already in force (a version may not be published with a past effective date)."""
    day = timezone.localdate() - dt.timedelta(days=PUBLISHED_DAYS_AGO)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


def load_region() -> dict[str, Department]:
    """The regions and departments (by key)."""
    _regions()
    return _departments()


def load_catalog(departments: dict[str, Department]) -> int:
    """The demo items, created and published as of ``published_moment()`` (every service and audit
    event reads the clock through django.utils.timezone.now). Returns how many were created."""
    with mock.patch("django.utils.timezone.now", return_value=published_moment()):
        return _items(departments)


def load(stdout: TextIO) -> None:
    """Create what is missing of the demo region, accounts and catalog; keep what exists."""
    with transaction.atomic():
        departments = load_region()
        # one Argon2 hash for every demo account: all share the documented password, and loading stays fast
        accounts = _accounts(departments, make_password(PASSWORD))
        items = load_catalog(departments)
    in_force = ItemVersion.objects.filter(status=ItemVersion.Status.PUBLISHED).values("item").distinct().count()
    stdout.write(
        f"演示数据：河源市及{len(REGIONS) - 2}个县区，{len(DEPARTMENTS)}个部门；"
        f"新建账号{accounts}个，新建事项{items}项（目录共{in_force}项）。\n"
    )


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)


def print_accounts(stdout: TextIO) -> None:
    """The demo accounts, as a table in Chinese (all share the password Yiwang@2026)."""
    roles = dict(StaffRole.Role.choices)
    w = stdout.write
    w("\n演示账号（密码均为 " + PASSWORD + "）\n")
    w("=" * 72 + "\n")
    w(_pad("角色", 12) + _pad("账号", 14) + _pad("姓名", 12) + "部门\n")
    for account in STAFF:
        if account.role in (StaffRole.Role.HANDLER, StaffRole.Role.REVIEWER, StaffRole.Role.APPROVER):
            continue
        w(
            _pad(str(roles[account.role]), 12)
            + _pad(account.username, 14)
            + _pad(account.display_name, 12)
            + DEPT[account.department].name
            + "\n"
        )
    w("\n各部门后台办理人员（承办人 / 审核人 / 审批人）\n")
    for key in OFFICE_DEPARTMENTS:
        w(f"  {DEPT[key].name}：{key}_handler / {key}_reviewer / {key}_approver\n")
    w("\n个人（用手机号码或公民身份号码登录；号码为演示数据）\n")
    for citizen in CITIZENS:
        w(f"  {citizen.name}：手机 {citizen.phone}，公民身份号码 {citizen.id_number}\n")
    w(
        f"\n法人：{ENTERPRISE['name']}（统一社会信用代码 {ENTERPRISE['uscc']}），"
        f"经办人 {CITIZENS[0].name}（以 {CITIZENS[0].phone} 登录后代表单位办事）\n"
    )
    w("管理后台：网站地址后加 /admin/（admin 或 catalog 登录；yiwang serve 启动时列出完整网址）\n")
    w("=" * 72 + "\n")
