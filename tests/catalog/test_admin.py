import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.factories import DepartmentFactory, draft_version, published_version
from yiwang.catalog import excel, services
from yiwang.catalog.models import ItemVersion, MaterialRequirement, ServiceItem
from yiwang.core import audit
from yiwang.identity.models import StaffRole, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    user = User.objects.create_user("catalog", password="Yiwang@2026", is_staff=True, display_name="事项管理员")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["catalog", "identity"]))
    StaffRole.objects.create(user=user, department=DepartmentFactory(), role="catalog_manager")
    client.force_login(user)
    return user


def change_url(version):
    return reverse("admin:catalog_itemversion_change", args=[version.pk])


def form_data(response) -> dict:
    """The POST data the admin change page would send back unchanged (main form and inlines)."""
    data = {}

    def put(form, name):
        value = form[name].value()
        if value is None or value is False:
            return
        if name in ("blank_form", "sample"):
            return
        data[form.add_prefix(name)] = "on" if value is True else value

    form = response.context["adminform"].form
    for name in form.fields:
        put(form, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for sub in formset.forms:
            for name in sub.fields:
                put(sub, name)
    return data


def test_manager_edits_a_draft_and_adds_a_material(client, manager):
    version = draft_version(name="公共场所卫生许可")
    page = client.get(change_url(version))
    assert page.status_code == 200
    data = form_data(page)
    data["name"] = "公共场所卫生许可（新办）"
    n = int(data["materials-TOTAL_FORMS"])
    data.update(
        {
            "materials-TOTAL_FORMS": n + 1,
            f"materials-{n}-order": 3,
            f"materials-{n}-name": "卫生管理制度",
            f"materials-{n}-required": "on",
            f"materials-{n}-copies": 1,
            f"materials-{n}-kind": "copy",
            f"materials-{n}-formats": "pdf",
            f"materials-{n}-source": "applicant",
        }
    )
    response = client.post(change_url(version), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    version.refresh_from_db()
    assert version.name == "公共场所卫生许可（新办）"
    assert "卫生管理制度" in [m.name for m in version.materials.all()]
    actions = [(e.action, e.actor) for e in audit.history(version.item)]
    assert ("catalog.version.updated", "catalog") in actions and ("catalog.material.saved", "catalog") in actions


def test_admin_form_reports_the_rules_of_the_catalog(client, manager):
    version = draft_version()
    data = form_data(client.get(change_url(version)))
    data["promised_days"] = 30
    response = client.post(change_url(version), data)
    assert response.status_code == 200
    assert "承诺办结时限（30个工作日）不得超过法定办结时限（20个工作日）。" in response.content.decode()


def test_published_version_is_read_only_in_the_admin(client, manager):
    version = published_version(name="结婚登记")
    page = client.get(change_url(version))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="name"' not in html and "结婚登记" in html
    assert "内容不可修改" in html and "新建草稿版本" in html
    # stages name their role in Chinese, not by its code
    assert "审批人" in html and ">approver<" not in html
    data = {"name": "改过的名字", "statutory_days": 1}
    assert client.post(change_url(version), data).status_code == 403
    version.refresh_from_db()
    assert version.name == "结婚登记"
    delete = reverse("admin:catalog_itemversion_delete", args=[version.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ItemVersion.objects.filter(pk=version.pk).exists()


def test_actions_publish_retire_and_new_draft(client, manager):
    draft = draft_version(name="出生医学证明")
    changelist = reverse("admin:catalog_itemversion_changelist")
    client.post(changelist, {"action": "publish_versions", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == ItemVersion.Status.PUBLISHED
    response = client.post(changelist, {"action": "new_drafts", "_selected_action": [draft.pk]})
    new = draft.item.versions.get(number=2)
    assert response.status_code == 302 and response["Location"] == change_url(new)
    client.post(changelist, {"action": "retire_versions", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == ItemVersion.Status.RETIRED
    client.post(changelist, {"action": "delete_drafts", "_selected_action": [new.pk]})
    assert not ItemVersion.objects.filter(pk=new.pk).exists()


def test_publishing_an_incomplete_draft_shows_why(client, manager):
    draft = draft_version(stages=[])
    changelist = reverse("admin:catalog_itemversion_changelist")
    response = client.post(changelist, {"action": "publish_versions", "_selected_action": [draft.pk]}, follow=True)
    assert "至少须有一个办理环节" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == ItemVersion.Status.DRAFT


def test_buttons_on_the_change_page(client, manager):
    draft = draft_version()
    url = reverse("admin:catalog_itemversion_operation", args=[draft.pk, "publish"])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "已发布，今天起生效。" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == ItemVersion.Status.PUBLISHED
    response = client.post(reverse("admin:catalog_itemversion_operation", args=[draft.pk, "new-draft"]))
    assert response["Location"] == change_url(draft.item.versions.get(number=2))


def test_add_an_item_then_its_first_draft(client, manager):
    department = DepartmentFactory(name="河源市民政局")
    response = client.post(
        reverse("admin:catalog_serviceitem_add"),
        {"base_code": "000107001000", "exercise_level": "3", "department": department.pk},
    )
    item = ServiceItem.objects.get()
    assert item.code == department.credit_code + "3000107001000"
    assert response["Location"] == reverse("admin:catalog_itemversion_add") + f"?item={item.pk}"
    again = client.post(
        reverse("admin:catalog_serviceitem_add"),
        {"base_code": "000107001000", "exercise_level": "3", "department": department.pk},
    )
    assert "的事项已存在" in again.content.decode()
    bad = client.post(
        reverse("admin:catalog_serviceitem_add"),
        {"base_code": "123", "exercise_level": "3", "department": department.pk},
    )
    assert "基本编码应为12位数字或大写字母。" in bad.content.decode()
    assert client.get(reverse("admin:catalog_itemversion_add") + f"?item={item.pk}").status_code == 200


def test_admin_only_lets_catalog_staff_in(client):
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(clerk)
    assert client.get(reverse("admin:catalog_import")).status_code == 403
    assert client.get(reverse("admin:catalog_export")).status_code == 403


def test_import_and_export_pages(client, manager):
    transport = DepartmentFactory(name="河源市交通运输局")
    with transaction.atomic():
        published_version(department=transport, name="道路运输经营许可")
        data = excel.export_workbook()
        transaction.set_rollback(True)
    changelist = client.get(reverse("admin:catalog_serviceitem_changelist")).content.decode()
    assert reverse("admin:catalog_import") in changelist and reverse("admin:catalog_export") in changelist

    form = client.get(reverse("admin:catalog_import"))
    assert form.status_code == 200 and "校验并导入" in form.content.decode()

    book = openpyxl.load_workbook(io.BytesIO(data))
    book["事项"]["O2"] = "二十"  # 法定时限（工作日）
    broken = io.BytesIO()
    book.save(broken)
    response = client.post(
        reverse("admin:catalog_import"), {"file": SimpleUploadedFile("清单.xlsx", broken.getvalue())}
    )
    assert response.status_code == 400
    assert "「事项」表第2行「法定时限（工作日）」列：应为非负整数。" in response.content.decode()
    assert ServiceItem.objects.count() == 0

    not_excel = client.post(reverse("admin:catalog_import"), {"file": SimpleUploadedFile("清单.xlsx", b"a,b\n1,2")})
    assert not_excel.status_code == 400 and "文件不是 Excel 工作簿" in not_excel.content.decode()

    ok = client.post(reverse("admin:catalog_import"), {"file": SimpleUploadedFile("清单.xlsx", data)}, follow=True)
    assert "导入完成：新增事项1项" in ok.content.decode()
    assert ItemVersion.objects.get().name == "道路运输经营许可"

    export = client.get(reverse("admin:catalog_export"))
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=utf-8''%E5%AE%9E%E6%96%BD%E6%B8%85%E5%8D%95" in export["Content-Disposition"]
    assert openpyxl.load_workbook(io.BytesIO(export.content))["事项"]["C2"].value == "道路运输经营许可"


def test_materials_of_a_published_version_are_shown_not_editable(client, manager):
    version = published_version(
        materials=[{"name": "营业执照", "source": "licence", "source_ref": "11100000000013338W002"}]
    )
    html = client.get(change_url(version)).content.decode()
    assert "营业执照" in html and 'name="materials-0-name"' not in html
    assert MaterialRequirement.objects.get(version=version).name == "营业执照"


def test_item_changelist_shows_current_versions_without_a_query_per_row(client, manager):
    for i in range(12):
        published_version(name=f"事项{i:02d}")
    services.new_draft_from(published_version(name="有草稿的事项"))
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("admin:catalog_serviceitem_changelist")).content.decode()
    assert "事项00" in html and "现行第1版" in html and "现行第1版，草稿第2版" in html
    assert sum('FROM "catalog_itemversion"' in q["sql"] for q in queries.captured_queries) == 1


def test_a_blank_form_links_to_the_guide_download_not_to_media(client, manager, settings, tmp_path):
    """/media/ is not served in production: the admin links a stored blank form to the guide's download."""
    settings.MEDIA_ROOT = tmp_path
    version = draft_version(name="公共场所卫生许可")
    material = version.materials.first() or MaterialRequirement.objects.create(version=version, name="申请书", order=1)
    material.blank_form.save("blank.pdf", io.BytesIO(b"%PDF-1.4\n%%EOF\n"))
    page = client.get(change_url(version)).content.decode()
    link = reverse("portal:item_material_file", args=[version.item.code, material.pk, "blank_form"])
    assert f'href="{link}?version={version.number}"' in page
    assert settings.MEDIA_URL + "catalog/forms/" not in page
    assert client.get(f"{link}?version={version.number}")["Content-Disposition"].startswith("attachment")


def test_a_published_versions_read_only_blank_form_links_to_the_guide_download(client, manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    version = published_version(name="公共场所卫生许可")
    material = version.materials.first() or MaterialRequirement.objects.create(version=version, name="申请书", order=1)
    stored = default_storage.save("catalog/samples/sample.pdf", io.BytesIO(b"%PDF-1.4\n%%EOF\n"))
    MaterialRequirement.objects.filter(pk=material.pk).update(sample=stored)  # published: no save()
    page = client.get(change_url(version)).content.decode()
    link = reverse("portal:item_material_file", args=[version.item.code, material.pk, "sample"])
    assert f'href="{link}?version={version.number}"' in page
    assert settings.MEDIA_URL + "catalog/" not in page
