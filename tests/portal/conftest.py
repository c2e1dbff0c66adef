"""A small world for the case pages: an item whose form uses every field type, with a material that an
electronic licence satisfies (免提交), an immediate item (即办件) of another department for the window,
a citizen holding that licence, an agent of a company, and the staff of the two departments."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

import pytest
from catalog.factories import STANDARD_STAGES, DepartmentFactory, published_version
from django.core.files.uploadedfile import SimpleUploadedFile
from licences.factories import food_data, licence_type

from yiwang.catalog.models import Handling, OnlineDepth
from yiwang.core.calendar import seed_from_package
from yiwang.core.ids import make_citizen_id, make_uscc
from yiwang.core.models import CalendarYear
from yiwang.identity.models import AgentAuthorization, LegalPerson, NaturalPerson, StaffRole, User
from yiwang.licences import services as licence_services

PASSWORD = "Yiwang-portal-2026"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
FOOD_LICENCE = "11100000000013338W001"

FORM_SCHEMA = [
    {"name": "shop_name", "label": "店铺名称", "type": "text", "required": True, "max_length": 30},
    {"name": "scope", "label": "经营范围说明", "type": "textarea"},
    {"name": "staff", "label": "从业人数", "type": "number", "min": 1, "max": 500, "required": True},
    {"name": "opening", "label": "开业日期", "type": "date"},
    {
        "name": "category",
        "label": "经营类别",
        "type": "select",
        "required": True,
        "options": [{"value": "retail", "label": "食品销售"}, {"value": "catering", "label": "餐饮服务"}],
    },
    {"name": "promise", "label": "本人承诺所填内容真实", "type": "checkbox", "required": True},
    {"name": "id_number", "label": "负责人身份证号", "type": "id_number", "required": True},
    {"name": "uscc", "label": "统一社会信用代码", "type": "uscc"},
    {"name": "phone", "label": "联系电话", "type": "phone", "required": True},
]

_seq = itertools.count(1)


def make_person(name: str, *, with_user: bool = True) -> NaturalPerson:
    n = next(_seq)
    user = None
    if with_user:
        user = User.objects.create_user(
            username=f"portal-citizen{n}", password=PASSWORD, display_name=name, phone=f"137{n:08d}"
        )
    return NaturalPerson.objects.create(
        name=name,
        id_number=make_citizen_id("441602", dt.date(1985, 3, 1) + dt.timedelta(days=n), n % 1000),
        phone=f"137{n:08d}",
        user=user,
    )


def make_staff(name: str, department, *roles: str) -> User:
    user = User.objects.create_user(username=f"portal-staff{next(_seq)}", password=PASSWORD, display_name=name)
    for role in roles:
        StaffRole.objects.create(user=user, department=department, role=role)
    return user


def upload(data: bytes = PDF, name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def calendar(db):
    if not CalendarYear.objects.filter(year=2026).exists():
        seed_from_package(range(2024, 2027))


@pytest.fixture
def world(db, calendar):
    market = DepartmentFactory(name="河源市市场监督管理局")
    civil = DepartmentFactory(name="河源市民政局")
    licence_type(code=FOOD_LICENCE)
    version = published_version(
        department=market,
        name="食品经营许可",
        service_object="both",
        form_schema=[dict(f) for f in FORM_SCHEMA],
        fee="50.00",
        materials=[
            {"name": "食品经营许可申请书", "formats": "pdf"},
            {"name": "营业场所证明", "formats": "pdf,jpg,png"},
            {"name": "原食品经营许可证", "source": "licence", "source_ref": FOOD_LICENCE, "required": False},
        ],
        stages=[dict(s) for s in STANDARD_STAGES],
    )
    immediate = published_version(
        department=civil,
        name="婚姻登记记录证明",
        handling=Handling.IMMEDIATE,
        promised_days=0,
        online_depth=OnlineDepth.DOWNLOAD,
        materials=[{"name": "身份证复印件", "formats": "pdf,jpg,png"}],
    )
    citizen = make_person("张三")
    company = LegalPerson.objects.create(name="河源市好味餐饮有限公司", uscc=make_uscc("91441600", "MA4PTL71"))
    AgentAuthorization.objects.create(person=citizen, organisation=company)
    licence = licence_services.issue_licence(
        licence_type=licence_type(code=FOOD_LICENCE), issuer=market, holder=citizen, data=food_data()
    )
    materials = list(version.materials.order_by("order"))
    return SimpleNamespace(
        market=market,
        civil=civil,
        version=version,
        item=version.item,
        materials=materials,
        immediate=immediate,
        licence=licence,
        citizen=citizen,
        user=citizen.user,
        company=company,
        stranger=make_person("李四"),
        clerk=make_staff("窗口甲", civil, StaffRole.Role.WINDOW_CLERK),
        market_clerk=make_staff("窗口乙", market, StaffRole.Role.WINDOW_CLERK),
        handler=make_staff("承办人", market, StaffRole.Role.HANDLER),
        reviewer=make_staff("审核人", market, StaffRole.Role.REVIEWER),
        approver=make_staff("审批人", market, StaffRole.Role.APPROVER),
        civil_approver=make_staff("民政审批", civil, StaffRole.Role.APPROVER),
    )


def form_post(world, **overrides) -> dict:
    """A complete application as the browser posts it (form fields carry the f_ prefix)."""
    data = {
        "f_shop_name": "张三小吃店",
        "f_scope": "热食类食品制售",
        "f_staff": "3",
        "f_opening": "2026-03-01",
        "f_category": "catering",
        "f_promise": "on",
        "f_id_number": world.citizen.id_number,
        "f_uscc": "",
        "f_phone": "13800138000",
        "applicant_org": "",
        "delivery_method": "electronic",
        "delivery_address": "",
        "idempotency_key": "key-1",
        "action": "submit",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def with_files(world, data: dict, *, which=(0, 1)) -> dict:
    for i in which:
        data[f"material_{world.materials[i].pk}"] = upload()
    return data
