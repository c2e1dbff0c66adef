"""The admin: the licence catalogue is edited with an audit event; licences are read-only and masked."""

import pytest
from catalog.factories import DepartmentFactory

from licences.factories import citizen, food_data, licence_type
from yiwang.core import audit
from yiwang.identity.models import User
from yiwang.licences import services
from yiwang.licences.models import LicenceType

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", password="Yiwang-2025"))
    return client


def test_a_licence_type_is_added_through_the_service_with_its_audit_event(admin_client):
    response = admin_client.post(
        "/admin/licences/licencetype/add/",
        {"code": "11100000000013338W009", "name": "烟草专卖零售许可证", "holder_kind": "any", "validity_years": "5",
         "number_prefix": "YC", "fields": '[{"name": "shop_name", "label": "企业（字号）名称", "required": true}]',
         "issuer_kind": "烟草专卖局", "active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    kind = LicenceType.objects.get(code="11100000000013338W009")
    assert [e.action for e in audit.history(kind)] == ["licence_type.created"]
    bad = admin_client.post(
        "/admin/licences/licencetype/add/",
        {"code": "short", "name": "x", "holder_kind": "person", "fields": '[{"label": "无名"}]', "active": "on"},
    )
    page = bad.content.decode()
    assert "证照类型代码应为21位数字或大写字母。" in page and "每个字段须有 name" in page


def test_licences_in_the_admin_are_read_only_and_masked(admin_client):
    person = citizen()
    licence = services.issue_licence(
        licence_type=licence_type(), issuer=DepartmentFactory(), holder=person, data=food_data()
    )
    page = admin_client.get(f"/admin/licences/licence/{licence.pk}/change/").content.decode()
    assert licence.number in page and person.masked_id in page and person.id_number not in page
    assert admin_client.get("/admin/licences/licence/add/").status_code == 403
    listing = admin_client.get("/admin/licences/licence/").content.decode()
    assert person.id_number not in listing


def test_the_licence_page_shows_the_face_data_by_its_labels_not_its_field_codes(admin_client):
    licence = services.issue_licence(
        licence_type=licence_type(), issuer=DepartmentFactory(), holder=citizen(), data=food_data()
    )
    page = admin_client.get(f"/admin/licences/licence/{licence.pk}/change/").content.decode()
    labels = licence.licence_type.field_labels()
    assert f"<div>{labels['shop_name']}：张三小吃店</div>" in page
    assert "shop_name" not in page and "category" not in page
