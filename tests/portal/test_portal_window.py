"""综窗: find or register the applicant by ID number (shown masked), take in any item of any department,
print the receipt, decide an immediate item (即办件) on the spot."""

from __future__ import annotations

import datetime as dt
import re

from case_pages import PNG, upload
from django.urls import reverse

from yiwang.cases.models import Case, Channel, Status
from yiwang.core import audit
from yiwang.core.ids import make_citizen_id, mask_citizen_id
from yiwang.identity.models import NaturalPerson

NEW_ID = make_citizen_id("441621", dt.date(1970, 5, 6), 77)


def _text(response) -> str:
    return response.content.decode()


def test_the_desk_is_for_window_clerks(client, world):
    client.force_login(world.handler)
    assert client.get(reverse("portal:window_desk")).status_code == 403
    client.force_login(world.user)
    assert client.get(reverse("portal:window_desk")).status_code == 403


def test_find_an_applicant_shows_the_masked_id(client, world):
    client.force_login(world.clerk)
    response = client.post(reverse("portal:window_desk"), {"id_number": world.citizen.id_number}, follow=True)
    page = _text(response)
    assert "张三" in page and world.citizen.masked_id in page
    assert world.citizen.id_number not in page


def test_a_wrong_id_number_is_named_on_its_field(client, world):
    client.force_login(world.clerk)
    response = client.post(reverse("portal:window_desk"), {"id_number": world.citizen.id_number[:-1]})
    assert response.status_code == 400 and "公民身份号码应为18位，当前为17位。" in _text(response)


def test_register_a_new_applicant(client, world):
    client.force_login(world.clerk)
    response = client.post(reverse("portal:window_desk"), {"id_number": NEW_ID})
    page = _text(response)
    # not registered yet is a normal step: a notice and the registration form with the number filled in
    assert response.status_code == 200 and "登记申请人" in page and 'id="window-register-notice"' in page
    assert "请修改以下内容" not in page and "error-summary" not in page and "新登记的申请人须填写姓名。" not in page
    assert f'value="{NEW_ID}"' in page and 'name="step" value="register"' in page
    client.post(
        reverse("portal:window_desk"), {"id_number": NEW_ID, "name": "赵六", "phone": "13700000001", "step": "register"}
    )
    person = NaturalPerson.objects.get(name="赵六")
    page = _text(client.get(reverse("portal:window_desk")))
    assert mask_citizen_id(NEW_ID) in page and NEW_ID not in page
    assert person.phone == "13700000001"
    registered = audit.history(person).get()
    assert registered.action == "person.registered" and registered.actor == world.clerk.username


def test_registering_without_a_name_is_a_field_error(client, world):
    client.force_login(world.clerk)
    response = client.post(reverse("portal:window_desk"), {"id_number": NEW_ID, "step": "register"})
    page = _text(response)
    assert response.status_code == 400 and "新登记的申请人须填写姓名。" in page and "登记申请人" in page
    assert not NaturalPerson.objects.filter(name="").exists()


def test_take_in_an_item_of_another_department_with_receipt(client, world):
    client.force_login(world.clerk)  # a clerk of 民政局 takes in a 市场监管局 item (一窗受理)
    client.post(reverse("portal:window_desk"), {"id_number": world.citizen.id_number})
    page = _text(client.get(reverse("portal:window_desk") + "?q=食品经营"))
    apply_url = reverse("portal:window_apply", args=[world.item.code])
    assert apply_url in page
    page = _text(client.get(apply_url))
    assert world.citizen.masked_id in page and "免提交" in page
    data = {
        "f_shop_name": "张三小吃店",
        "f_staff": "2",
        "f_category": "retail",
        "f_promise": "on",
        "f_id_number": world.citizen.id_number,
        "f_phone": "13800138000",
        "delivery_method": "window",
        "accept": "on",
        "idempotency_key": "window-1",
        f"material_{world.materials[0].pk}": upload(),
        f"material_{world.materials[1].pk}": upload(PNG, "扫描件.png"),
    }
    response = client.post(apply_url, data)
    case = Case.objects.get()
    assert response["Location"] == reverse("portal:staff_case", args=[case.number])
    assert case.channel == Channel.WINDOW and case.clerk == world.clerk and case.status == Status.ACCEPTED
    page = _text(client.get(response["Location"]))
    assert "已收件并受理" in page and "下载受理回执（PDF）" in page
    receipt = case.documents.get(kind="receipt")
    printed = client.get(reverse("portal:case_document", args=[case.number, receipt.pk]) + "?inline=1")
    assert printed["Content-Type"] == "application/pdf" and "inline" in printed["Content-Disposition"]
    assert b"".join(printed.streaming_content).startswith(b"%PDF")
    # posted twice (double click): still one case, the same answer
    again = {
        **data,
        f"material_{world.materials[0].pk}": upload(),
        f"material_{world.materials[1].pk}": upload(PNG, "扫描件.png"),
    }
    assert client.post(apply_url, again)["Location"] == response["Location"]
    assert Case.objects.count() == 1


def test_immediate_item_decided_on_the_spot(client, world):
    client.force_login(world.clerk)
    client.post(reverse("portal:window_desk"), {"id_number": world.citizen.id_number})
    url = reverse("portal:window_apply", args=[world.immediate.item.code])
    material = world.immediate.materials.get()
    response = client.post(
        url,
        {
            "f_applicant_name": "张三",
            "f_id_number": world.citizen.id_number,
            "f_phone": "13800138000",
            "delivery_method": "window",
            "accept": "on",
            "idempotency_key": "window-2",
            f"material_{material.pk}": upload(),
        },
    )
    case = Case.objects.get()
    page = _text(client.get(response["Location"]))
    assert "即办件" in page and 'id="action-decide"' in page
    client.post(reverse("portal:staff_action", args=[case.number, "decide"]), {"decision": "approve"})
    client.post(reverse("portal:staff_action", args=[case.number, "complete"]))
    client.post(reverse("portal:staff_action", args=[case.number, "deliver"]), {"method": "window"})
    case.refresh_from_db()
    assert case.status == Status.DELIVERED and case.decision == "approved"
    assert case.documents.filter(kind="decision").exists()


def test_window_form_errors_are_shown_on_their_fields(client, world):
    client.force_login(world.clerk)
    client.post(reverse("portal:window_desk"), {"id_number": world.citizen.id_number})
    url = reverse("portal:window_apply", args=[world.item.code])
    response = client.post(url, {"f_shop_name": "", "org_uscc": "91441600XXXXXXXXX1", "accept": "on"})
    page = _text(response)
    assert response.status_code == 400
    assert '<a href="#id_org_uscc">统一社会信用代码最后一位校验码与前17位不符' in page
    response = client.post(url, {"f_shop_name": "", "accept": "on"})
    page = _text(response)
    assert "请填写「店铺名称」。" in page and "请选择「经营类别」。" in page and 'href="#id_f_phone"' in page
    assert Case.objects.count() == 0


def test_window_apply_without_an_applicant_goes_back_to_the_desk(client, world):
    client.force_login(world.clerk)
    response = client.get(reverse("portal:window_apply", args=[world.item.code]))
    assert response["Location"] == reverse("portal:window_desk")


def test_the_intake_form_does_not_preset_acceptance(client, world):
    client.force_login(world.clerk)
    client.post(reverse("portal:window_desk"), {"id_number": world.citizen.id_number})
    page = client.get(reverse("portal:window_apply", args=[world.immediate.item.code])).content.decode()
    accept = re.search(r'<input[^>]*name="accept"[^>]*>', page)
    assert accept is not None and "checked" not in accept.group(0)
