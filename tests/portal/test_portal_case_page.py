"""The applicant's case page (timeline, documents, payment, withdrawal) and the public progress query."""

from __future__ import annotations

import pytest
from case_pages import PDF, form_post, upload
from django.urls import reverse

from yiwang.cases import services
from yiwang.cases.models import Status


def _text(response) -> str:
    return response.content.decode()


@pytest.fixture
def case(world):
    data = {k[2:]: v for k, v in form_post(world).items() if k.startswith("f_")}
    data["promise"] = True
    return services.submit_case(
        world.user,
        item=world.item,
        form_data=data,
        files={world.materials[0].pk: upload(PDF, "申请书.pdf"), world.materials[1].pk: upload()},
    )


def test_my_cases_lists_status_holder_due_date_and_todo(client, world, case):
    services.accept_case(world.handler, case)
    client.force_login(world.user)
    page = _text(client.get(reverse("portal:my_cases")))
    case.refresh_from_db()
    assert case.number in page and "已受理" in page and "河源市市场监督管理局" in page
    assert case.due_date.strftime("%Y-%m-%d") in page and "无需操作" in page


def test_case_page_timeline_and_receipt(client, world, case):
    services.accept_case(world.handler, case)
    client.force_login(world.user)
    page = _text(client.get(reverse("portal:case_detail", args=[case.number])))
    assert "提交申请" in page and "受理" in page and "已受理，办结期限" in page
    assert world.handler.username not in page  # the applicant sees departments, never the person
    receipt = case.documents.get(kind="receipt")
    response = client.get(reverse("portal:case_document", args=[case.number, receipt.pk]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]


def test_other_peoples_cases_are_not_found(client, world, case):
    services.accept_case(world.handler, case)
    receipt = case.documents.get(kind="receipt")
    material = case.materials.first()
    client.force_login(world.stranger.user)
    for url in (
        reverse("portal:case_detail", args=[case.number]),
        reverse("portal:case_detail", args=[case.pk]),
        reverse("portal:case_submitted", args=[case.number]),
        reverse("portal:case_document", args=[case.number, receipt.pk]),
        reverse("portal:case_material", args=[case.number, material.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("portal:case_withdraw", args=[case.number])).status_code == 404
    # staff see their cases on the workbench, not as applicants
    client.force_login(world.handler)
    assert client.get(reverse("portal:case_detail", args=[case.number])).status_code == 404


def test_withdraw(client, world, case):
    client.force_login(world.user)
    response = client.post(reverse("portal:case_withdraw", args=[case.number]), {"reason": "不再需要"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN
    again = client.post(reverse("portal:case_withdraw", args=[case.number]), {"reason": ""})
    assert again.status_code == 409 and "办件当前状态为“已撤回”，不能撤回。" in _text(again)


def test_pay_through_the_development_provider(client, world, case):
    services.accept_case(world.handler, case)
    for user in (world.handler, world.reviewer, world.approver):
        services.claim_task(user, case)
        if user is world.approver:
            services.decide(user, case, approve=True)
        else:
            services.pass_task(user, case)
    order = case.payments.get()
    client.force_login(world.user)
    page = _text(client.get(reverse("portal:case_detail", args=[case.number])))
    assert "请缴纳费用" in page and reverse("portal:case_pay", args=[case.number, order.number]) in page
    page = _text(client.get(reverse("portal:case_pay", args=[case.number, order.number])))
    assert "确认支付 50.00 元" in page
    response = client.post(reverse("portal:case_pay", args=[case.number, order.number]))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "paid"
    again = client.post(reverse("portal:case_pay", args=[case.number, order.number]))
    assert again.status_code == 409 and "已缴费" in _text(again)


def test_progress_query_without_login(client, world, case):
    services.accept_case(world.handler, case)
    page = _text(client.get(reverse("portal:home")))
    assert reverse("portal:progress") in page
    response = client.post(
        reverse("portal:progress"), {"number": case.number, "id_last4": world.citizen.id_number[-4:]}
    )
    page = _text(response)
    assert response.status_code == 200 and "已受理" in page and "食品经营许可" in page
    assert "河源市市场监督管理局" in page
    assert world.citizen.name not in page and world.citizen.id_number not in page


@pytest.mark.parametrize("last4", ["0000", "12", ""])
def test_progress_query_with_a_wrong_code_confirms_nothing(client, world, case, last4):
    response = client.post(reverse("portal:progress"), {"number": case.number, "id_last4": last4})
    assert response.status_code == 404
    assert "未查询到办件，请核对办件编号和证件号码后四位。" in _text(response)


def test_guessing_the_progress_code_is_limited_per_address(client, world, case):
    url = reverse("portal:progress")
    for _ in range(30):
        assert client.post(url, {"number": case.number, "id_last4": "0000"}).status_code == 404
    # the 31st try within a minute is refused even with the right code; the API shares the budget
    right = {"number": case.number, "id_last4": world.citizen.id_number[-4:]}
    refused = client.post(url, right)
    assert refused.status_code == 429 and "查询过于频繁" in _text(refused)
    api = client.get("/api/progress/", {"number": case.number, "id_last4": world.citizen.id_number[-4:]})
    assert api.status_code == 429
