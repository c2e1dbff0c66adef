import io
from collections import Counter
from urllib.parse import unquote

import pytest
from catalog.pdftools import embeds_cjk_font, info_string
from django.contrib.auth import authenticate as django_authenticate
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from yiwang.catalog import excel, selectors
from yiwang.catalog.models import ItemVersion, MaterialRequirement, ServiceItem
from yiwang.core.ids import validate_citizen_id, validate_uscc
from yiwang.demo import loader
from yiwang.demo.files import demo_data
from yiwang.identity.models import AgentAuthorization, Department, LegalPerson, NaturalPerson, Region, StaffRole, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    out = io.StringIO()
    loader.load_people_and_catalog(out)
    return out.getvalue()


def current():
    return list(selectors.current_versions().prefetch_related("materials", "stages__department"))


def test_load_is_idempotent(loaded):
    assert "新建事项37项" in loaded
    counts = (ServiceItem.objects.count(), ItemVersion.objects.count(), User.objects.count(), StaffRole.objects.count())
    again = io.StringIO()
    loader.load_people_and_catalog(again)
    assert "新建账号0个，新建事项0项（目录共37项）" in again.getvalue()
    assert counts == (
        ServiceItem.objects.count(),
        ItemVersion.objects.count(),
        User.objects.count(),
        StaffRole.objects.count(),
    )


def test_region_and_departments_are_real_and_valid(loaded):
    heyuan = Region.objects.get(code="441600")
    assert heyuan.name == "河源市" and heyuan.parent.name == "广东省" and heyuan.parent.code == "440000"
    assert dict(heyuan.children.values_list("code", "name")) == {
        "441602": "源城区",
        "441621": "紫金县",
        "441622": "龙川县",
        "441623": "连平县",
        "441624": "和平县",
        "441625": "东源县",
    }
    names = set(Department.objects.values_list("name", flat=True))
    for name in ["河源市行政服务中心", "河源市市场监督管理局", "河源市公安局", "河源市卫生健康局", "河源市民政局"]:
        assert name in names
    for department in Department.objects.all():
        assert validate_uscc(department.credit_code) == department.credit_code


def test_catalog_is_realistic(loaded):
    versions = current()
    assert len(versions) >= 30
    names = {v.name for v in versions}
    for name in [
        "个体工商户设立登记",
        "食品经营许可（新办）",
        "公共场所卫生许可（新办）",
        "出生医学证明首次签发",
        "户口登记（出生）",
        "内地居民结婚登记",
        "社会保障卡申领",
        "失业登记",
        "建筑工程施工许可证核发",
        "道路运输经营许可（道路普通货物运输）",
        "住房公积金提取（购买自住住房）",
        "药品零售企业许可",
        "居住证签注",
        "最低生活保障审核确认",
        "就业创业证申领",
        "不动产转移登记（二手房买卖）",
        "机动车驾驶证有效期满换证",
        "城镇职工基本养老保险关系转移接续",
        "机动车转移登记（二手车交易）",
    ]:
        assert name in names, name
    assert sum(v.handling == "1" for v in versions) >= 5  # 即办件
    zero = [v for v in versions if v.max_visits == 0]
    assert len(zero) >= 5 and all(v.online_depth == 4 for v in zero)
    licences = Counter(v.result_licence_type for v in versions if v.result_type == "licence")
    assert set(licences) == {t["code"] for t in demo_data().licence_types}  # the five demo licence types
    for v in versions:
        assert v.legal_basis and v.conditions and v.form_schema and v.materials.all() and v.stages.all()
        assert v.promised_days <= v.statutory_days
        assert v.effective_from < timezone.localdate()  # published half a year ago


def test_the_same_standard_item_in_two_counties(loaded):
    individual = [v for v in current() if v.name == "个体工商户设立登记"]
    assert {v.item.region.name for v in individual} == {"源城区", "东源县"}
    assert len({v.item.base_code for v in individual}) == 1 and len({v.item.code for v in individual}) == 2


def test_materials_reuse_licences_and_shared_data(loaded):
    food = selectors.search_items(q="食品经营许可").first()  # the best match: the words are its name
    assert food.name == "食品经营许可（新办）"
    licence = food.materials.get(name="营业执照")
    assert (licence.source, licence.source_ref) == (MaterialRequirement.Source.LICENCE, "11100000000013338W002")
    birth = selectors.search_items(q="户口登记").first()
    assert birth.name == "户口登记（出生）"
    household = birth.materials.get(name="居民户口簿")
    assert (household.source, household.source_ref) == (MaterialRequirement.Source.SHARED_DATA, "POP-HOUSEHOLD")


def test_parallel_approval_across_two_departments(loaded):
    permit = selectors.search_items(q="建筑工程施工许可").first()
    assert permit.name == "建筑工程施工许可证核发"
    group = [s for s in permit.stages.all() if s.parallel_group]
    assert len(group) == 2 and len({s.order for s in group}) == 1
    assert {(s.department or permit.item.department).name for s in group} == {
        "河源市住房和城乡建设局",
        "河源市自然资源局",
    }


def test_every_stage_has_staff_to_do_it(loaded):
    for version in current():
        for stage in version.stages.all():
            department = stage.department or version.item.department
            assert StaffRole.objects.filter(department=department, role=stage.role).exists(), (version.name, stage)


def test_accounts_log_in_with_the_documented_password(loaded, rf):
    def authenticate(**credentials):  # as the login form does: the lock-out counts by request
        return django_authenticate(rf.post("/login/"), **credentials)

    for username in ["admin", "catalog", "supervisor", "window", "scjg_handler", "zr_reviewer", "yc_mz_approver"]:
        assert authenticate(username=username, password=demo_data().password) is not None, username
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    manager = User.objects.get(username="catalog")
    assert manager.is_staff and manager.has_perm("catalog.change_itemversion")
    assert StaffRole.objects.filter(user__username="window", role="window_clerk", department__name="河源市行政服务中心")
    zhang, li = demo_data().citizens
    assert authenticate(username="13800000001", password="Yiwang@2026").display_name == "张伟"
    assert authenticate(username=li.id_number, password="Yiwang@2026").phone == "13800000002"
    for citizen in demo_data().citizens:
        assert validate_citizen_id(citizen.id_number) == citizen.id_number
    company = LegalPerson.objects.get()
    assert validate_uscc(company.uscc) == company.uscc
    agent = AgentAuthorization.objects.get(organisation=company)
    assert agent.person == NaturalPerson.objects.get(user__username=zhang.phone)


def test_print_accounts(loaded):
    out = io.StringIO()
    loader.print_accounts(out)
    text = out.getvalue()
    assert "演示账号（密码均为 Yiwang@2026）" in text
    for fragment in ["admin", "catalog", "window", "supervisor", "scjg_handler", "13800000001", "13800000002"]:
        assert fragment in text
    assert demo_data().citizens[0].id_number in text and "河源市万绿湖餐饮管理有限公司" in text


def test_every_guide_renders_and_one_pdf(loaded, client):
    for version in current():
        response = client.get(reverse("portal:item_guide", args=[version.item.code]))
        assert response.status_code == 200, version.name
        assert version.name in response.content.decode()
    food = selectors.search_items(q="食品经营许可").first()
    pdf = client.get(reverse("portal:item_guide_pdf", args=[food.item.code])).content
    assert embeds_cjk_font(pdf) and info_string(pdf, "Title") == "食品经营许可（新办） 办事指南"


def test_demo_catalog_round_trips_through_excel():
    departments = loader.load_region()
    with transaction.atomic():
        loader.load_catalog(departments)
        first = excel.export_workbook()
        transaction.set_rollback(True)
    assert ServiceItem.objects.count() == 0
    result = excel.import_workbook(first)
    assert len(result.created) == 37
    assert _cells(excel.export_workbook()) == _cells(first)


def _cells(data: bytes) -> dict:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    return {name: [[c.value for c in row] for row in book[name].iter_rows()] for name in book.sheetnames}


def test_delivery_is_asked_once_on_every_demo_application_page(loaded, client):
    # 结果领取方式 used to be a form field beside the page's 办理结果送达方式: the form asked it twice
    client.force_login(NaturalPerson.objects.get(name=demo_data().citizens[0].name).user)
    for version in current():
        assert not [f["name"] for f in version.form_schema if "领取方式" in f["label"] or f["name"] == "delivery"]
        if version.online_depth < 3 or version.service_object == "organisation":
            continue
        page = client.get(reverse("portal:apply", args=[version.item.code])).content.decode()
        assert page.count("办理结果送达方式") == 1 and "结果领取方式" not in page, version.name


def test_application_forms_have_a_blank_form_and_a_sample_to_download_from_the_guide(loaded, client):
    food = selectors.search_items(q="食品经营许可").first()
    material = food.materials.get(name="食品经营许可申请书")
    assert material.blank_form and material.sample
    page = client.get(reverse("portal:item_guide", args=[food.item.code])).content.decode()
    for kind, label in (("blank_form", "空白表格"), ("sample", "示例样表")):
        url = reverse("portal:item_material_file", args=[food.item.code, material.pk, kind])
        assert f'href="{url}"' in page
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert unquote(response["Content-Disposition"]).endswith(f"食品经营许可申请书-{label}.pdf")
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
    with_forms = MaterialRequirement.objects.exclude(blank_form="").count()
    assert with_forms >= 3
    # a material without one answers 404, not a server error
    other = food.materials.get(name="营业执照")
    assert (
        client.get(reverse("portal:item_material_file", args=[food.item.code, other.pk, "sample"])).status_code == 404
    )
