"""A small world for the case pages: an item whose form uses every field type, with a material that an
electronic licence satisfies (免提交), an immediate item (即办件) of another department for the window,
a citizen holding that licence, an agent of a company, and the staff of the two departments."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from case_pages import FOOD_LICENCE, FORM_SCHEMA, PDF, form_post, make_person, make_staff, upload
from catalog.factories import STANDARD_STAGES, DepartmentFactory, published_version
from licences.factories import food_data, licence_type

from yiwang.cases import services as case_services
from yiwang.cases.models import Case
from yiwang.catalog.models import Handling, OnlineDepth
from yiwang.core.calendar import seed_from_package
from yiwang.core.ids import make_uscc
from yiwang.core.models import CalendarYear
from yiwang.identity.models import AgentAuthorization, LegalPerson, StaffRole
from yiwang.licences import services as licence_services


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


@pytest.fixture
def accepted(world):
    """Accepted cases of the citizen, handled by the market department."""

    def make() -> Case:
        data = {k[2:]: v for k, v in form_post(world).items() if k.startswith("f_")}
        data["promise"] = True
        files = {world.materials[0].pk: upload(PDF, "申请书.pdf"), world.materials[1].pk: upload(PDF, "场所.pdf")}
        case = case_services.submit_case(
            world.user,
            item=world.item,
            form_data=data,
            files=files,
            offers={world.materials[2].pk: world.licence.identifier},
        )
        return case_services.accept_case(world.handler, case.pk)

    return make
