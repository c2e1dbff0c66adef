"""With the case app: 同步签发 on an approved decision, and 免提交 (a material satisfied by a licence
the applicant holds, with consent recorded and the data shown to the reviewing department)."""

import pytest
from catalog.factories import DepartmentFactory, published_version
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from licences.factories import citizen, licence_type, organisation, staff
from yiwang.cases import material_sources
from yiwang.cases import services as cases
from yiwang.cases.models import CaseMaterial
from yiwang.catalog.models import Handling
from yiwang.core import audit
from yiwang.core.calendar import seed_from_package
from yiwang.core.errors import Conflict, InvalidInput
from yiwang.core.models import CalendarYear
from yiwang.identity.models import StaffRole
from yiwang.licences import services
from yiwang.licences.models import HolderKind, Licence, LicenceType, LicenceUse
from yiwang.licences.sources import LicenceSource
from yiwang.licences.tasks import issue_for_case_task, on_case_decided

pytestmark = pytest.mark.django_db

BUSINESS = "11100000000013338W002"
FOOD = "11100000000013338W001"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
FORM_SCHEMA = [
    {"name": "shop_name", "label": "经营者名称", "type": "text", "required": True},
    {"name": "address", "label": "经营场所", "type": "text", "required": True},
    {"name": "category", "label": "经营项目", "type": "select", "required": True,
     "options": [{"value": "hot", "label": "热食类食品制售"}, {"value": "retail", "label": "预包装食品销售"}]},
]  # fmt: skip


@pytest.fixture
def world(db):
    if not CalendarYear.objects.exists():
        seed_from_package(range(2024, 2028))
    market = DepartmentFactory(name="河源市市场监督管理局")
    licence_type(holder_kind=HolderKind.ANY)  # 食品经营许可证 (the result): an individual or a company
    business = licence_type(
        code=BUSINESS, name="个体工商户营业执照", validity_years=None, prefix="GT",
        fields=[{"name": "shop_name", "label": "名称", "required": True}],
    )  # fmt: skip
    version = published_version(
        department=market,
        name="食品经营许可",
        service_object="both",
        handling=Handling.IMMEDIATE,
        result_type="licence",
        result_name="食品经营许可证",
        result_licence_type=FOOD,
        form_schema=FORM_SCHEMA,
        materials=[
            {"name": "营业执照", "source": "licence", "source_ref": BUSINESS},
            {"name": "食品经营许可申请书", "formats": "pdf"},
        ],
    )
    applicant = citizen("张三")
    held = services.issue_licence(
        licence_type=business, issuer=market, holder=applicant, data={"shop_name": "张三小吃店"}
    )
    clerk = staff(market, role=StaffRole.Role.WINDOW_CLERK, name="窗口甲")
    return {"market": market, "version": version, "applicant": applicant, "held": held, "clerk": clerk,
            "business_material": version.materials.get(name="营业执照"),
            "form_material": version.materials.get(name="食品经营许可申请书")}  # fmt: skip


def _submit(world, **kwargs):
    return cases.submit_case(
        world["applicant"].user,
        item=world["version"].item,
        form_data={"shop_name": "张三小吃店", "address": "河源市源城区越王大道1号", "category": "hot"},
        files={world["form_material"].pk: SimpleUploadedFile("申请书.pdf", PDF)},
        **kwargs,
    )


def _accepted(world):
    return cases.accept_case(
        world["clerk"], _submit(world, offers={world["business_material"].pk: world["held"].identifier})
    )  # noqa: E501


def test_the_licence_source_is_registered_at_start_up():
    assert any(isinstance(s, LicenceSource) for s in material_sources.sources_for("licence"))


def test_the_form_offers_the_licence_the_applicant_holds(world):
    offers = material_sources.offers_for(world["business_material"], person=world["applicant"])
    assert [(o.source, o.reference) for o in offers] == [("licence", world["held"].identifier)]
    assert offers[0].title == f"个体工商户营业执照 {world['held'].number}"
    assert offers[0].summary["data"] == {"名称": "张三小吃店"}
    assert offers[0].summary["holder_code"] == world["applicant"].masked_id
    assert material_sources.offers_for(world["business_material"], person=citizen("李四")) == []
    services.suspend_licence(world["held"], actor=None, reason="检查")
    assert material_sources.offers_for(world["business_material"], person=world["applicant"]) == []


def test_submitting_with_the_offer_records_consent_and_never_asks_for_an_upload(world, client):
    reference = world["held"].identifier
    case = _submit(world, offers={world["business_material"].pk: reference})
    material = case.materials.get(requirement=world["business_material"])
    assert material.satisfied_by == CaseMaterial.SatisfiedBy.LICENCE and not material.file
    assert material.source_reference == reference
    assert material.source_data["data"] == {"名称": "张三小吃店"}
    use = LicenceUse.objects.get(licence=world["held"])
    assert (use.department, use.case_id, use.material_name) == (world["market"], case.pk, "营业执照")
    assert use.granted_by == world["applicant"].user
    assert "licence.used" in [e.action for e in audit.history(world["held"])]
    client.force_login(world["applicant"].user)
    page = client.get(reverse("portal:licence_detail", args=[reference])).content.decode()
    assert "用证记录" in page and case.number in page
    # a reviewer of the department (not the issuer here: another department) now sees it, masked
    reviewing = DepartmentFactory(name="河源市卫生健康局")
    services.record_use(world["held"], department=reviewing, case_number="X-1", actor=world["applicant"].user)
    client.force_login(staff(reviewing, role="reviewer"))
    page = client.get(reverse("portal:licence_detail", args=[reference])).content.decode()
    assert "张三小吃店" in page and world["applicant"].masked_id in page and world["applicant"].id_number not in page


def test_a_licence_that_is_no_longer_valid_cannot_be_used(world):
    source = LicenceSource()
    offer = source.offers(world["business_material"], person=world["applicant"])[0]
    case = _submit(world, offers={world["business_material"].pk: offer.reference})
    services.revoke_licence(world["held"], actor=None, reason="注销")
    with pytest.raises(Conflict, match="个体工商户营业执照（.*）当前状态为“已撤销”，不能用于办件"):
        source.use(offer, case=case, material=world["business_material"], actor=world["applicant"].user)


def test_someone_else_s_licence_cannot_be_used(world):
    source = LicenceSource()
    case = _submit(world, offers={world["business_material"].pk: world["held"].identifier})
    other = services.issue_licence(
        licence_type=BUSINESS, issuer=world["market"], holder=citizen("李四"), data={"shop_name": "李四店"}
    )
    offer = material_sources.Offer("licence", other.identifier, "x")
    with pytest.raises(InvalidInput, match="所选电子证照不属于本办件的申请人"):
        source.use(offer, case=case, material=world["business_material"], actor=world["applicant"].user)


def test_an_approved_case_issues_its_licence_at_once_and_only_once(world, django_capture_on_commit_callbacks):
    case = _submit(world, offers={world["business_material"].pk: world["held"].identifier})
    case = cases.accept_case(world["clerk"], case)
    with django_capture_on_commit_callbacks(execute=True):
        case = cases.decide(world["clerk"], case, approve=True, reason="符合条件")
    licence = Licence.objects.get(case_id=case.pk)
    assert (licence.type_code, licence.name, licence.origin) == (FOOD, "食品经营许可证", "case")
    assert licence.case_number == case.number
    assert licence.holder_digest == world["applicant"].id_digest
    assert licence.issuer == world["market"] and licence.region_code == case.region_code
    assert licence.data == {
        "shop_name": "张三小吃店",
        "address": "河源市源城区越王大道1号",
        "category": "热食类食品制售",
    }
    assert licence.issue_date == case.decided_at.astimezone().date()
    # the decision delivered again (a retry) issues nothing new
    on_case_decided(sender=None, case=case, approved=True)
    assert Licence.objects.filter(case_id=case.pk).count() == 1


def test_a_denied_case_issues_nothing(world, django_capture_on_commit_callbacks):
    case = cases.accept_case(
        world["clerk"], _submit(world, offers={world["business_material"].pk: world["held"].identifier})
    )
    with django_capture_on_commit_callbacks(execute=True):
        cases.decide(world["clerk"], case, approve=False, reason="场所不符合要求")
    assert not Licence.objects.filter(case_id=case.pk).exists()


def test_an_organisation_case_issues_the_licence_to_the_organisation(world, django_capture_on_commit_callbacks):
    company = organisation("河源市好味餐饮有限公司", agent=world["applicant"])
    held = services.issue_licence(
        licence_type=licence_type(code=BUSINESS, name="营业执照", holder_kind=HolderKind.ORGANISATION,
                                  validity_years=None, prefix="GS",
                                  fields=[{"name": "shop_name", "label": "名称", "required": True}]),
        issuer=world["market"], holder=company, data={"shop_name": "好味餐饮"},
    )  # fmt: skip
    offers = material_sources.offers_for(world["business_material"], person=world["applicant"], organisation=company)
    assert held.identifier in [o.reference for o in offers]
    case = _submit(world, applicant_org=company, offers={world["business_material"].pk: held.identifier})
    case = cases.accept_case(world["clerk"], case)
    with django_capture_on_commit_callbacks(execute=True):
        cases.decide(world["clerk"], case, approve=True, reason="符合条件")
    licence = Licence.objects.get(case_id=case.pk)
    assert (licence.holder_name, licence.holder_code, licence.holder_code_type) == (company.name, company.uscc, "001")


def test_a_failed_issue_is_retried_by_the_queue(world, django_capture_on_commit_callbacks):
    """The licence type is missing when the case is decided; once it is registered, the retry issues."""
    case = cases.accept_case(
        world["clerk"], _submit(world, offers={world["business_material"].pk: world["held"].identifier})
    )
    Licence.objects.none()

    LicenceType.objects.filter(code=FOOD).update(code="11100000000013338W0XX")
    with django_capture_on_commit_callbacks(execute=True):
        cases.decide(world["clerk"], case, approve=True, reason="符合条件")
    assert not Licence.objects.filter(case_id=case.pk).exists()  # the decision stands, nothing half-issued
    LicenceType.objects.filter(code="11100000000013338W0XX").update(code=FOOD)
    issue_for_case_task.call_local(case.pk)
    assert Licence.objects.get(case_id=case.pk).data["shop_name"] == "张三小吃店"


def test_a_parallel_department_sees_the_reused_licence_like_the_case_s_own(world, client):
    """并联审批: the applicant's consent covers the case, so the department of a parallel stage opens the
    reused licence (page and API) like the case's own department; a department without a task does not."""
    from yiwang.catalog.models import Stage

    issuer = DepartmentFactory(name="东源县市场监督管理局")  # neither the case's department nor the parallel one
    held = services.issue_licence(
        licence_type=LicenceType.objects.get(code=BUSINESS), issuer=issuer, holder=world["applicant"],
        data={"shop_name": "张三二店"},
    )  # fmt: skip
    health = DepartmentFactory(name="河源市卫生健康局")
    version = published_version(
        department=world["market"], name="食品生产许可", service_object="both", form_schema=FORM_SCHEMA,
        materials=[{"name": "营业执照", "source": "licence", "source_ref": BUSINESS}],
        stages=[
            {"name": "承办", "kind": Stage.Kind.HANDLE, "role": "handler", "time_share": 30},
            {"name": "市场监管审查", "kind": Stage.Kind.REVIEW, "role": "reviewer", "time_share": 30,
             "parallel_group": "并联", "order": 2},
            {"name": "卫健审查", "kind": Stage.Kind.REVIEW, "role": "reviewer", "time_share": 30,
             "parallel_group": "并联", "order": 2, "department": health},
            {"name": "审批", "kind": Stage.Kind.DECIDE, "role": "approver", "time_share": 10, "order": 3},
        ],
    )  # fmt: skip
    case = cases.submit_case(
        world["applicant"].user, item=version.item, offers={version.materials.get().pk: held.identifier},
        form_data={"shop_name": "张三二店", "address": "河源市源城区越王大道2号", "category": "hot"},
    )  # fmt: skip
    handler = staff(world["market"], role=StaffRole.Role.HANDLER)
    cases.accept_case(handler, case)
    cases.claim_task(handler, case)
    cases.pass_task(handler, case)
    assert sorted(case.tasks.filter(status="open").values_list("department__name", flat=True)) == [
        "河源市卫生健康局",
        "河源市市场监督管理局",
    ]
    own, parallel = staff(world["market"], role="reviewer"), staff(health, role="reviewer")
    licence_page = reverse("portal:licence_detail", args=[held.identifier])
    for reviewer in (own, parallel):
        client.force_login(reviewer)
        page = client.get(licence_page)
        assert page.status_code == 200 and "张三二店" in page.content.decode()
        assert world["applicant"].id_number not in page.content.decode()  # masked, as for the own department
        api = client.get(f"/api/licences/{held.identifier}/")
        assert api.status_code == 200 and api.json()["access"] == "reviewer"
        case_page = client.get(reverse("portal:staff_case", args=[case.number])).content.decode()
        assert f'href="{licence_page}"' in case_page and "查看电子证照" in case_page
    client.force_login(staff(DepartmentFactory(name="河源市教育局"), role="reviewer"))
    assert client.get(licence_page).status_code == 404
    assert client.get(f"/api/licences/{held.identifier}/").status_code == 404
