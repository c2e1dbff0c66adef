"""The wallet, the licence page (亮证) and the public verification pages, as people use them."""

import pytest
from catalog.factories import DepartmentFactory
from django.urls import reverse

from licences.factories import citizen, food_data, licence_type, organisation, staff
from yiwang.licences import services
from yiwang.licences.files import envelope_bytes
from yiwang.licences.models import HolderKind, Licence
from yiwang.licences.verification import make_qr_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    department = DepartmentFactory(name="河源市市场监督管理局")
    holder = citizen("张三")
    company = organisation("河源市示例运输有限公司", agent=holder)
    road = licence_type(
        code="11100000000013338W005", name="道路运输经营许可证", holder_kind=HolderKind.ORGANISATION,
        fields=[{"name": "scope", "label": "经营范围", "required": True}], prefix="YS",
    )  # fmt: skip
    food = services.issue_licence(
        licence_type=licence_type(), issuer=department, holder=holder, data=food_data(), case_number="C-1"
    )
    transport = services.issue_licence(licence_type=road, issuer=department, holder=company, data={"scope": "货运"})
    stranger = citizen("路人甲")
    foreign = services.issue_licence(licence_type=licence_type(), issuer=department, holder=stranger, data=food_data())
    return {
        "department": department, "holder": holder, "company": company, "food": food, "transport": transport,
        "stranger": stranger, "foreign": foreign,
    }  # fmt: skip


def _text(response) -> str:
    return response.content.decode()


def test_my_licences_lists_the_person_and_the_organisations_they_act_for(client, world):
    client.force_login(world["holder"].user)
    page = _text(client.get(reverse("portal:my_licences")))
    assert "我的证照" in page
    assert "食品经营许可证" in page and world["food"].number in page
    assert f'href="{reverse("portal:case_detail", args=["C-1"])}"' in page  # the case behind it
    assert "河源市示例运输有限公司" in page and world["transport"].number in page
    assert world["foreign"].number not in page
    assert "有效" in page


def test_the_wallet_needs_a_login(client):
    response = client.get(reverse("portal:my_licences"))
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]


def test_the_holder_sees_the_full_licence_with_a_qr_code(client, world):
    client.force_login(world["holder"].user)
    page = _text(client.get(reverse("portal:licence_detail", args=[world["food"].identifier])))
    assert world["holder"].id_number in page
    assert "亮证二维码" in page and 'src="data:image/png;base64,' in page
    assert "张三小吃店" in page and "下载 PDF" in page
    # the QR code carries the verification address with a token, never personal data
    assert world["holder"].id_number not in page.split('data-qr-url="')[1].split('"')[0]
    pdf = client.get(reverse("portal:licence_pdf", args=[world["food"].identifier]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    ylic = client.get(reverse("portal:licence_file", args=[world["food"].identifier]))
    assert ylic.content == envelope_bytes(world["food"])


def test_the_issuer_staff_sees_the_full_licence_other_staff_and_citizens_see_nothing(client, world):
    url = reverse("portal:licence_detail", args=[world["food"].identifier])
    client.force_login(staff(world["department"]))
    page = _text(client.get(url))
    assert world["holder"].id_number in page and "证照管理（颁发机构）" in page
    for outsider in (staff(), world["stranger"].user):
        client.force_login(outsider)
        response = client.get(url)
        assert response.status_code == 404
        assert "未找到该证照，或您无权查看。" in _text(response)
        assert world["holder"].id_number not in _text(response)
        assert client.get(reverse("portal:licence_pdf", args=[world["food"].identifier])).status_code == 404


def test_a_department_reviewing_a_case_with_consent_sees_the_licence_masked(client, world):
    reviewing = DepartmentFactory(name="河源市卫生健康局")
    reviewer = staff(reviewing, role="reviewer")
    url = reverse("portal:licence_detail", args=[world["food"].identifier])
    client.force_login(reviewer)
    assert client.get(url).status_code == 404  # no consent yet
    services.record_use(
        world["food"], department=reviewing, case_number="C-9", actor=world["holder"].user, material_name="营业执照"
    )
    page = _text(client.get(url))
    assert "张三小吃店" in page and world["holder"].masked_id in page
    assert world["holder"].id_number not in page
    assert client.get(reverse("portal:licence_pdf", args=[world["food"].identifier])).status_code == 403


def test_the_holder_sees_who_used_the_licence(client, world):
    services.record_use(
        world["food"], department=DepartmentFactory(name="河源市卫生健康局"), case_number="C-9",
        actor=world["holder"].user, material_name="营业执照",
    )  # fmt: skip
    client.force_login(world["holder"].user)
    page = _text(client.get(reverse("portal:licence_detail", args=[world["food"].identifier])))
    assert "用证记录" in page and "河源市卫生健康局" in page and "C-9" in page


def test_the_holder_chooses_what_the_qr_code_shows(client, world):
    client.force_login(world["holder"].user)
    fragment = _text(client.get(reverse("portal:licence_qr", args=[world["food"].identifier]) + "?show=data"))
    assert "对方可见：证照名称、编号、颁发机构、有效期和当前状态、照面信息" in fragment
    url = fragment.split('data-qr-url="')[1].split('"')[0].replace("&amp;", "&")
    client.logout()
    page = _text(client.get(url.replace("http://127.0.0.1:8000", "")))
    assert "核验通过：证照真实" in page and "张三小吃店" in page and "张三" not in page.replace("张三小吃店", "")


def test_issuer_staff_suspend_and_resume_from_the_licence_page(client, world):
    client.force_login(staff(world["department"]))
    url = reverse("portal:licence_action", args=[world["food"].identifier])
    response = client.post(url, {"action": "suspend", "reason": ""}, follow=True)
    assert "请填写理由。" in _text(response)
    response = client.post(url, {"action": "suspend", "reason": "现场检查不合格"}, follow=True)
    assert "已办理：暂扣。" in _text(response) and "已暂扣" in _text(response)
    assert Licence.objects.get(pk=world["food"].pk).status == "suspended"
    client.post(url, {"action": "resume", "reason": "整改到位"})
    assert Licence.objects.get(pk=world["food"].pk).status == "valid"


def test_issuer_staff_change_a_licence_into_a_new_version(client, world):
    client.force_login(staff(world["department"]))
    response = client.post(
        reverse("portal:licence_action", args=[world["food"].identifier]),
        {"action": "change", "reason": "经营场所变更", "data_address": "河源市源城区新址2号",
         "data_shop_name": "张三小吃店", "holder_name": "张三"},
        follow=True,
    )  # fmt: skip
    page = _text(response)
    assert "已办理：变更。" in page and "河源市源城区新址2号" in page and "002" in page
    assert Licence.objects.get(pk=world["food"].pk).status == "superseded"


def test_a_citizen_cannot_act_as_issuer(client, world):
    client.force_login(world["holder"].user)
    client.post(
        reverse("portal:licence_action", args=[world["food"].identifier]), {"action": "revoke", "reason": "不要了"}
    )
    assert Licence.objects.get(pk=world["food"].pk).status == "valid"


def test_anyone_verifies_an_uploaded_licence_file(client, world, tmp_path):
    path = tmp_path / "licence.ylic"
    path.write_bytes(envelope_bytes(world["food"]))
    with path.open("rb") as fh:
        page = _text(client.post(reverse("portal:licence_verify"), {"file": fh}))
    assert "核验通过：证照真实" in page and "河源市市场监督管理局" in page and "有效" in page
    path.write_bytes(envelope_bytes(world["food"]).replace(b'"payload": "eyJ', b'"payload": "eyK'))
    with path.open("rb") as fh:
        page = _text(client.post(reverse("portal:licence_verify"), {"file": fh}))
    assert "核验未通过" in page


def test_the_verification_page_asks_for_a_file(client):
    response = client.post(reverse("portal:licence_verify"), {})
    assert response.status_code == 400 and "请选择要核验的证照文件" in _text(response)
    assert "电子证照核验" in _text(client.get(reverse("portal:licence_verify")))


def test_a_scanned_code_of_a_revoked_licence_says_so(client, world):
    token = make_qr_token(world["food"])
    services.revoke_licence(world["food"], actor=None, reason="以欺骗手段取得")
    page = _text(client.get(reverse("portal:licence_check", args=[world["food"].identifier]) + f"?t={token}"))
    assert "核验通过：证照真实" in page and "已撤销" in page and "以欺骗手段取得" in page
    page = _text(client.get(reverse("portal:licence_check", args=[world["food"].identifier]) + "?t=1.-.abc"))
    assert "无法核验" in page and "二维码无效或已被改动。" in page
