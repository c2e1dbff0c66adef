"""The back office: queues per department and role, the staff case page with the form data, the
materials (reused licences shown inline), the clock, and every action the state allows."""

from __future__ import annotations

import pytest
from case_pages import PDF, form_post, upload
from django.urls import reverse

from yiwang.cases import services
from yiwang.cases.models import Case, CorrectionRequest, Status
from yiwang.identity.models import StaffRole


def _text(response) -> str:
    return response.content.decode()


@pytest.fixture
def submitted(world):
    """A case submitted online by the citizen, reusing the licence for the third material."""

    def make(**kwargs) -> Case:
        data = {k[2:]: v for k, v in form_post(world).items() if k.startswith("f_")}
        data["promise"] = True
        files = {world.materials[0].pk: upload(PDF, "申请书.pdf"), world.materials[1].pk: upload(PDF, "场所.pdf")}
        return services.submit_case(
            world.user,
            item=world.item,
            form_data=data,
            files=files,
            offers={world.materials[2].pk: world.licence.identifier},
            **kwargs,
        )

    return make


def act(client, case, action, data=None):
    return client.post(reverse("portal:staff_action", args=[case.number, action]), data or {})


def test_workbench_is_for_staff_only(client, world):
    client.force_login(world.user)
    response = client.get(reverse("portal:workbench"))
    assert response.status_code == 403 and "工作台仅供工作人员使用" in _text(response)


def test_queues_follow_department_and_role(client, world, submitted):
    case = submitted()
    client.force_login(world.handler)
    page = _text(client.get(reverse("portal:workbench")))
    assert "待受理" in page and case.number in page
    client.force_login(world.clerk)  # a clerk of another department sees nothing of it
    assert case.number not in _text(client.get(reverse("portal:workbench")))

    services.accept_case(world.handler, case)
    client.force_login(world.reviewer)
    page = _text(client.get(reverse("portal:workbench")))
    assert "本部门在办" in page and case.number in page
    client.force_login(world.handler)
    page = _text(client.get(reverse("portal:workbench") + f"?department={world.market.pk}&role=handler"))
    assert "承办" in page and case.number in page


def test_staff_case_page_shows_form_materials_and_reused_licence_inline(client, world, submitted):
    case = submitted()
    client.force_login(world.handler)
    page = _text(client.get(reverse("portal:staff_case", args=[case.number])))
    assert "店铺名称" in page and "张三小吃店" in page
    assert "餐饮服务" in page  # the option's label, not its value
    assert world.citizen.masked_id in page and world.citizen.id_number not in page.replace(
        case.form_data["id_number"], ""
    )
    material = case.materials.get(requirement=world.materials[0])
    assert reverse("portal:case_material", args=[case.number, material.pk]) in page
    assert "免提交" in page and world.licence.number in page and "颁发机构" in page
    assert "受理期限" in page and 'id="action-accept"' in page


def test_staff_download_uploaded_material_and_others_cannot(client, world, submitted):
    case = submitted()
    material = case.materials.get(requirement=world.materials[0])
    url = reverse("portal:case_material", args=[case.number, material.pk])
    client.force_login(world.reviewer)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]
    client.force_login(world.clerk)
    assert client.get(url).status_code == 404
    client.force_login(world.stranger.user)
    assert client.get(url).status_code == 404


def test_other_departments_cases_are_not_found(client, world, submitted):
    case = submitted()
    client.force_login(world.clerk)
    assert client.get(reverse("portal:staff_case", args=[case.number])).status_code == 404
    assert act(client, case, "accept").status_code == 404
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED


def test_the_whole_back_office_path(client, world, submitted):
    case = submitted()
    client.force_login(world.handler)
    assert act(client, case, "accept")["Location"] == reverse("portal:staff_case", args=[case.number])
    page = _text(client.get(reverse("portal:staff_case", args=[case.number])))
    assert "已受理，受理回执已生成。" in page and "下载受理回执（PDF）" in page and "办结期限" in page
    act(client, case, "claim")
    assert act(client, case, "pass", {"comment": "材料齐全"}).status_code == 302

    client.force_login(world.reviewer)
    act(client, case, "claim")
    act(client, case, "pass", {"comment": "同意"})

    client.force_login(world.approver)
    act(client, case, "claim")
    page = _text(act(client, case, "decide", {"decision": "deny", "reason": ""}))
    assert "不予办理须写明理由。" in page
    act(client, case, "decide", {"decision": "approve", "reason": "符合条件"})
    case.refresh_from_db()
    assert case.status == Status.APPROVED
    page = _text(client.get(reverse("portal:staff_case", args=[case.number])))
    assert "下载决定书（PDF）" in page
    assert "申请人尚有待缴费的缴费单。" in page  # the item costs 50 yuan, to be paid before completion

    response = act(client, case, "complete")
    assert response.status_code == 409 and "申请人尚未缴费，暂不能办结。" in _text(response)

    client.force_login(world.user)
    order = case.payments.get()
    client.post(reverse("portal:case_pay", args=[case.number, order.number]))
    client.force_login(world.approver)
    act(client, case, "complete")
    response = act(client, case, "deliver", {"method": "post", "address": "", "tracking_number": ""})
    page = _text(response)
    assert response.status_code == 400 and "邮寄送达须填写邮寄地址。" in page
    act(
        client,
        case,
        "deliver",
        {"method": "post", "address": "河源市源城区1号", "carrier": "EMS", "tracking_number": "E1"},
    )
    case.refresh_from_db()
    assert case.status == Status.DELIVERED and case.delivery.tracking_number == "E1"


def test_someone_else_acting_first_shows_a_conflict_not_an_error(client, world, submitted):
    case = submitted()
    services.accept_case(world.reviewer, case)  # meanwhile, at another desk
    client.force_login(world.handler)
    response = act(client, case, "accept")
    assert response.status_code == 409
    assert "办件当前状态为“已受理”，不能受理。" in _text(response)

    # two handlers, one task: the second to claim is told who has it
    second = StaffRole.objects.create(user=world.approver, department=world.market, role=StaffRole.Role.HANDLER).user
    client.force_login(second)
    assert 'id="action-claim"' in _text(client.get(reverse("portal:staff_case", args=[case.number])))
    services.claim_task(world.handler, case)
    response = act(client, case, "claim")
    assert response.status_code == 409 and "此办件当前没有您可以签收的任务。" in _text(response)


def test_refuse_needs_a_reason(client, world, submitted):
    case = submitted()
    client.force_login(world.handler)
    response = act(client, case, "refuse", {"reason": "  "})
    assert response.status_code == 400 and "请填写不予受理的理由。" in _text(response)
    act(client, case, "refuse", {"reason": "不属于本部门职权范围"})
    case.refresh_from_db()
    assert case.status == Status.REFUSED and case.documents.filter(kind="refusal").exists()


def test_one_time_correction_with_many_rows_then_resubmission(client, world, submitted):
    case = submitted()
    client.force_login(world.handler)
    response = act(
        client,
        case,
        "request-correction",
        {
            f"problem_m_{world.materials[0].pk}": "申请书未签名",
            f"problem_m_{world.materials[1].pk}": "场所证明模糊",
            "problem_f_phone": "电话无法接通",
            "problem_other_1": "请补充平面图说明",
        },
    )
    assert response.status_code == 302
    correction = CorrectionRequest.objects.get()
    assert len(correction.items) == 4
    page = _text(client.get(reverse("portal:staff_case", args=[case.number])))
    assert 'id="action-request-correction"' not in page  # 一次性告知: only once per round

    client.force_login(world.user)
    page = _text(client.get(reverse("portal:case_detail", args=[case.number])))
    assert "请一次性补正以下内容" in page and "食品经营许可申请书：申请书未签名" in page
    assert "提交补正" in page and 'name="f_phone"' in page and "补正告知书" in page
    resubmit = reverse("portal:case_resubmit", args=[case.number])
    response = client.post(resubmit, {"f_phone": "13900139000", f"material_{world.materials[0].pk}": upload()})
    assert response.status_code == 400 and "请补正“营业场所证明”：场所证明模糊" in _text(response)
    response = client.post(
        resubmit,
        {
            "f_phone": "13900139000",
            f"material_{world.materials[0].pk}": upload(),
            f"material_{world.materials[1].pk}": upload(),
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED and case.form_data["phone"] == "13900139000"


def test_an_other_problem_gets_an_upload_slot_and_its_own_label(client, world, submitted):
    case = submitted()
    client.force_login(world.handler)
    act(client, case, "request-correction", {"problem_other_1": "请补充提供健康证明"})
    client.force_login(world.user)
    page = _text(client.get(reverse("portal:case_detail", args=[case.number])))
    # the timeline and the to-do name it 其他问题, never the application form
    assert "其他问题：请补充提供健康证明" in page and "申请表：请补充提供健康证明" not in page
    assert 'name="extra_0"' in page and 'type="file"' in page
    response = client.post(
        reverse("portal:case_resubmit", args=[case.number]), {"extra_0": upload(PDF, "健康证明.pdf")}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED
    free = case.materials.get(requirement__isnull=True)
    assert free.label == "其他问题：请补充提供健康证明" and free.original_name == "健康证明.pdf"
    page = _text(client.get(reverse("portal:case_detail", args=[case.number])))
    assert reverse("portal:case_material", args=[case.number, free.pk]) in page
    client.force_login(world.handler)
    staff_page = _text(client.get(reverse("portal:staff_case", args=[case.number])))
    assert "其他问题：请补充提供健康证明" in staff_page and "健康证明.pdf" in staff_page
    download = client.get(reverse("portal:case_material", args=[case.number, free.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"


def test_special_procedure_and_extension(client, world, submitted):
    case = submitted()
    services.accept_case(world.handler, case)
    client.force_login(world.handler)
    response = act(client, case, "special-procedure", {"kind": "inspection", "reason": ""})
    assert response.status_code == 400 and "请填写特别程序的理由。" in _text(response)
    act(client, case, "special-procedure", {"kind": "inspection", "reason": "现场核查经营场所"})
    case.refresh_from_db()
    assert case.status == Status.SUSPENDED
    page = _text(client.get(reverse("portal:workbench")))
    assert "特别程序中" in page and case.number in page
    act(client, case, "special-procedure-end", {"result": "场所符合要求"})
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED

    response = act(client, case, "extension", {"days": "11", "reason": "情况复杂"})
    assert response.status_code == 400 and "延期合计不得超过10个工作日" in _text(response)
    act(client, case, "extension", {"days": "5", "reason": "情况复杂"})
    due_before = case.due_date
    client.force_login(world.approver)
    assert "待审批的延期申请" in _text(client.get(reverse("portal:workbench")))
    page = _text(client.get(reverse("portal:staff_case", args=[case.number])))
    assert "延期申请：延长5个工作日" in page
    act(client, case, "extension-approve", {"decision": "approve"})
    case.refresh_from_db()
    assert case.due_date > due_before


def test_return_needs_a_comment_and_goes_back_a_step(client, world, submitted):
    case = submitted()
    services.accept_case(world.handler, case)
    services.claim_task(world.handler, case)
    services.pass_task(world.handler, case)
    client.force_login(world.reviewer)
    act(client, case, "claim")
    response = act(client, case, "return", {"comment": ""})
    assert response.status_code == 400 and "请填写退回意见。" in _text(response)
    act(client, case, "return", {"comment": "场所面积核对有误"})
    assert case.tasks.filter(step=0, status="open").exists()


def test_unknown_actions_and_get_requests_are_refused(client, world, submitted):
    case = submitted()
    client.force_login(world.handler)
    assert act(client, case, "delete-everything").status_code == 404
    assert client.get(reverse("portal:staff_action", args=[case.number, "accept"])).status_code == 405


def _to_decision(client, world, case) -> None:
    client.force_login(world.handler)
    act(client, case, "accept")
    for user in (world.handler, world.reviewer, world.approver):
        client.force_login(user)
        act(client, case, "claim")
        if user is not world.approver:
            act(client, case, "pass", {"comment": "同意"})


def test_no_decision_is_preset_and_none_chosen_is_a_field_error(client, world, submitted):
    case = submitted()
    _to_decision(client, world, case)
    page = _text(client.get(reverse("portal:staff_case", args=[case.number])))
    start = page.index('id="action-decide"')
    decide_form = page[start : page.index("</form>", start)]
    assert 'name="decision"' in decide_form and "checked" not in decide_form
    response = act(client, case, "decide", {"reason": "符合条件"})
    page = _text(response)
    assert response.status_code == 400 and "请选择审批决定：准予办理或不予办理。" in page
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW and case.decision == ""


def test_no_extension_decision_is_preset(client, world, submitted):
    case = submitted()
    client.force_login(world.handler)
    act(client, case, "accept")
    act(client, case, "claim")
    act(client, case, "extension", {"days": "3", "reason": "需征求意见"})
    client.force_login(world.approver)
    page = _text(client.get(reverse("portal:staff_case", args=[case.number])))
    start = page.index('id="action-extension-approve"')
    assert "checked" not in page[start : page.index("</form>", start)]
    response = act(client, case, "extension-approve", {})
    assert response.status_code == 400 and "请选择是否批准延期。" in _text(response)
    assert case.extensions.get().status == "pending"
