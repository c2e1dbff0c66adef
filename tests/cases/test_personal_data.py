"""Personal data on a case: masked unless the viewer is entitled; 查看完整信息 and every download of a
material or document is itself on the case's chain and shown to staff (谁查看了) and applicant (查看记录)."""

from __future__ import annotations

from django.test import Client, RequestFactory

from yiwang.core import audit
from yiwang.core.ids import mask_account, mask_address, mask_citizen_id, mask_phone
from yiwang.core.reporting import PersonalDataFilter
from yiwang.core.verify import verify_audit

from .http import Api

PHONE = "13800138000"


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_masks():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_address("广东省河源市源城区文明路1号3栋") == "广东省河源市源城区****"
    assert mask_address("广西壮族自治区南宁市青秀区民族大道1号") == "广西壮族自治区南宁市青秀区****"
    assert mask_address("河源市万绿湖风景区管理处") == "河源市万绿湖风景区****"
    assert mask_address("连山壮族瑶族自治县吉田镇") == "连山壮族瑶族自治县****"
    assert mask_address("某某路1号") == "某某****"
    assert mask_account("6222020200112233445") == "***************3445"


def test_handling_staff_see_the_phone_but_the_id_number_only_after_an_audited_view(world, submit):
    case = submit()
    handler = page_client(world.handler)
    page = handler.get(f"/workbench/cases/{case.number}/").content.decode()
    assert PHONE in page  # the department handling the case: contact data in clear
    assert world.citizen.id_number not in page and mask_citizen_id(world.citizen.id_number) in page
    assert "查看完整信息" in page

    full = handler.post(f"/workbench/cases/{case.number}/full-info/").content.decode()
    assert world.citizen.id_number in full
    event = audit.history(case).last()
    assert (event.action, event.actor, event.actor_role) == ("personal_data_viewed", world.handler.username, "handler")
    assert "谁查看了" in full and "查看完整信息" in full and world.handler.display_name in full


def test_a_clerk_after_the_desk_sees_the_case_masked_and_may_not_unmask_it(world, submit):
    case = submit()
    clerk = page_client(world.clerk)  # a window clerk of the same department: not handling the case
    page = clerk.get(f"/workbench/cases/{case.number}/").content.decode()
    assert PHONE not in page and mask_phone(PHONE) in page
    assert world.citizen.id_number not in page and 'id="view-full"' not in page
    assert clerk.post(f"/workbench/cases/{case.number}/full-info/").status_code == 403
    assert not audit.history(case).filter(action="personal_data_viewed").exists()


def test_the_api_masks_the_form_for_staff_who_do_not_handle_the_case(live_server, world, submit):
    case = submit()
    as_clerk = Api(live_server.url, world.clerk).get(f"/api/cases/{case.number}/").json["form_data"]
    assert as_clerk["phone"] == mask_phone(PHONE)
    assert as_clerk["id_number"] == mask_citizen_id(world.citizen.id_number)
    as_handler = Api(live_server.url, world.handler).get(f"/api/cases/{case.number}/").json["form_data"]
    assert as_handler["phone"] == PHONE and as_handler["id_number"] == mask_citizen_id(world.citizen.id_number)
    mine = Api(live_server.url, world.citizen_user).get(f"/api/cases/{case.number}/").json["form_data"]
    assert mine["id_number"] == world.citizen.id_number  # the person themself


def test_a_download_by_staff_is_logged_and_the_applicant_sees_it(live_server, world, submit):
    case = submit()
    material = case.materials.filter(file__gt="").first()
    reply = Api(live_server.url, world.handler).get(f"/api/cases/{case.number}/materials/{material.pk}/")
    assert reply.status == 200
    event = audit.history(case).last()
    assert (event.action, event.actor, event.data["material"]) == (
        "material_downloaded",
        world.handler.username,
        material.pk,
    )
    assert event.data["department"] == world.market.name and "after" not in event.data
    assert audit.history(case).count() >= 2  # on the case's own chain, after its submission
    assert verify_audit().ok  # the chain still verifies, the case's state still its chain's

    mine = page_client(world.citizen_user).get(f"/my/cases/{case.number}/").content.decode()
    log = mine[mine.index('id="access-log"') :]
    assert "查看记录" in mine and "下载申请材料" in log and world.market.name in log and "承办人" in log
    assert world.handler.username not in log  # the post and department, not the staff member's login


def test_error_reports_mask_posted_personal_data(settings):
    request = RequestFactory().post(
        "/x/", {"phone": PHONE, "id_number": "441602199005121231", "delivery_address": "广东省河源市源城区文明路1号"}
    )
    shown = PersonalDataFilter().get_post_parameters(request)
    assert shown["phone"] == mask_phone(PHONE) and shown["id_number"] == "441602********1231"
    assert shown["delivery_address"] == "广东省河源市源城区****"
    assert "YIWANG_KEK" not in str(PersonalDataFilter().get_safe_settings().get("YIWANG_KEK", "*"))
    assert settings.DEFAULT_EXCEPTION_REPORTER_FILTER == "yiwang.core.reporting.PersonalDataFilter"
