"""Applying online from the guide: the generated form, uploads or licence reuse, drafts, submission
(once, whatever the number of clicks), the confirmation and 我的办件."""

from __future__ import annotations

import pytest
from case_pages import PDF, PNG, form_post, upload, with_files
from django.urls import reverse

from yiwang.cases.models import Case, CaseMaterial, Status


def _text(response) -> str:
    return response.content.decode()


def test_the_guide_links_to_online_application(client, world):
    page = _text(client.get(reverse("portal:item_guide", args=[world.item.code])))
    assert "在线办理" in page and reverse("portal:apply", args=[world.item.code]) in page
    window_only = _text(client.get(reverse("portal:item_guide", args=[world.immediate.item.code])))
    assert "在线办理" not in window_only


def test_applying_needs_a_login(client, world):
    response = client.get(reverse("portal:apply", args=[world.item.code]))
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]


def test_the_form_is_generated_from_the_item_version(client, world):
    client.force_login(world.user)
    page = _text(client.get(reverse("portal:apply", args=[world.item.code])))
    assert 'name="f_shop_name"' in page and 'type="text"' in page
    assert '<textarea name="f_scope"' in page
    assert 'type="number" name="f_staff"' in page and 'min="1"' in page
    assert 'type="date" name="f_opening"' in page
    assert '<option value="catering">餐饮服务</option>' in page
    assert 'type="checkbox" name="f_promise"' in page
    assert 'name="f_id_number"' in page and 'name="f_uscc"' in page and 'inputmode="tel"' in page
    # who applies: oneself or the company the citizen acts for
    assert "本人申请：张三" in page and world.citizen.masked_id in page
    assert "作为经办人代表单位申请：河源市好味餐饮有限公司" in page
    # one upload per material with its formats; the licence the citizen holds is offered instead
    assert f'name="material_{world.materials[0].pk}"' in page and 'accept=".pdf"' in page
    assert 'accept=".pdf,.jpg,.png"' in page
    assert f"免提交</strong> — 已关联电子证照 {world.licence.name} {world.licence.number}" in page
    assert f'name="offer_{world.materials[2].pk}"' in page
    assert 'type="hidden" name="idempotency_key"' in page


def test_submit_gets_a_case_number_and_a_confirmation(client, world):
    client.force_login(world.user)
    data = with_files(world, form_post(world))
    data[f"offer_{world.materials[2].pk}"] = "on"
    response = client.post(reverse("portal:apply", args=[world.item.code]), data)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:case_submitted", args=[case.number])
    page = _text(client.get(response["Location"]))
    assert "申请已提交" in page and case.number in page
    assert case.status == Status.SUBMITTED and case.applicant_person == world.citizen
    assert case.form_data["category"] == "catering" and case.form_data["staff"] == 3
    assert case.form_data["promise"] is True
    reused = case.materials.get(requirement=world.materials[2])
    assert reused.satisfied_by == CaseMaterial.SatisfiedBy.LICENCE
    assert reused.source_reference == world.licence.identifier


def test_a_double_click_makes_one_case(client, world):
    client.force_login(world.user)
    url = reverse("portal:apply", args=[world.item.code])
    first = client.post(url, with_files(world, form_post(world, idempotency_key="same-click")))
    second = client.post(url, with_files(world, form_post(world, idempotency_key="same-click")))
    assert Case.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_invalid_form_shows_every_error_next_to_its_field(client, world):
    client.force_login(world.user)
    data = with_files(world, form_post(world, f_shop_name="", f_staff="0", f_phone="12345", f_promise=None))
    response = client.post(reverse("portal:apply", args=[world.item.code]), data)
    page = _text(response)
    assert response.status_code == 400
    assert "请修改以下内容" in page
    assert "请填写「店铺名称」。" in page and "「从业人数」不能小于1。" in page
    assert "请勾选「本人承诺所填内容真实」。" in page and "「联系电话」应为11位手机号码" in page
    assert 'href="#id_f_shop_name"' in page
    # the chosen files are kept in a draft: shown as uploaded, never to be chosen again
    draft = Case.objects.get()
    assert draft.status == Status.DRAFT and draft.materials.count() == 2
    assert page.count("已上传：材料.pdf") == 2 and "需要重新选择本次要上传的文件" not in page
    assert "无需重新选择" in page and f'action="{reverse("portal:draft", args=[draft.pk])}"' in page
    # corrected, without choosing any file again: submitted from the same draft
    response = client.post(reverse("portal:draft", args=[draft.pk]), form_post(world))
    draft.refresh_from_db()
    assert response.status_code == 302 and draft.status == Status.SUBMITTED
    assert Case.objects.count() == 1 and draft.materials.count() == 2


def test_one_submit_shows_form_and_material_errors_together(client, world):
    client.force_login(world.user)
    data = form_post(world, f_shop_name="")
    data[f"material_{world.materials[0].pk}"] = upload(PNG, "申请书.pdf")
    response = client.post(reverse("portal:apply", args=[world.item.code]), data)
    page = _text(response)
    assert response.status_code == 400
    assert "请填写「店铺名称」。" in page
    assert "“食品经营许可申请书”须为 PDF 格式" in page and "请提供“营业场所证明”。" in page
    assert Case.objects.count() == 0  # nothing good to keep: no draft either


def test_a_file_whose_content_is_not_an_allowed_format_is_named(client, world):
    client.force_login(world.user)
    data = form_post(world)
    data[f"material_{world.materials[0].pk}"] = upload(PNG, "申请书.pdf")
    data[f"material_{world.materials[1].pk}"] = upload()
    page = _text(client.post(reverse("portal:apply", args=[world.item.code]), data))
    assert "“食品经营许可申请书”须为 PDF 格式" in page
    draft = Case.objects.get()
    assert draft.status == Status.DRAFT
    assert [m.requirement_id for m in draft.materials.all()] == [world.materials[1].pk]
    assert "已上传：材料.pdf" in page


def test_a_kept_file_can_be_removed_from_the_draft(client, world):
    client.force_login(world.user)
    data = form_post(world, f_shop_name="")
    data[f"material_{world.materials[0].pk}"] = upload()
    client.post(reverse("portal:apply", args=[world.item.code]), data)
    draft = Case.objects.get()
    page = _text(client.get(reverse("portal:draft", args=[draft.pk])))
    remove = reverse("portal:draft_remove_material", args=[draft.pk, world.materials[0].pk])
    assert f'formaction="{remove}"' in page
    client.post(remove)
    assert draft.materials.count() == 0


def test_missing_materials_are_named_on_their_upload(client, world):
    client.force_login(world.user)
    response = client.post(reverse("portal:apply", args=[world.item.code]), form_post(world))
    page = _text(response)
    assert response.status_code == 400
    assert "请提供“食品经营许可申请书”。" in page and "请提供“营业场所证明”。" in page
    assert f'href="#id_material_{world.materials[0].pk}"' in page


def test_save_a_draft_come_back_and_submit_it(client, world):
    client.force_login(world.user)
    data = form_post(world, action="save", f_shop_name="半成品", f_staff="")
    data[f"material_{world.materials[0].pk}"] = upload(PDF, "申请书.pdf")
    response = client.post(reverse("portal:apply", args=[world.item.code]), data)
    draft = Case.objects.get()
    assert draft.status == Status.DRAFT and draft.number is None
    assert response["Location"] == reverse("portal:draft", args=[draft.pk])

    listing = _text(client.get(reverse("portal:my_cases")))
    assert "未提交的草稿" in listing and reverse("portal:draft", args=[draft.pk]) in listing
    page = _text(client.get(reverse("portal:draft", args=[draft.pk])))
    assert 'value="半成品"' in page and "已上传：申请书.pdf" in page

    def final(key="draft-key"):
        return {**form_post(world, idempotency_key=key), f"material_{world.materials[1].pk}": upload(PNG, "场所.png")}

    response = client.post(reverse("portal:draft", args=[draft.pk]), final())
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED and draft.number
    assert response["Location"] == reverse("portal:case_submitted", args=[draft.number])
    assert draft.form_data["shop_name"] == "张三小吃店"
    # the second click of a double click (same key) shows the same case
    again = client.post(reverse("portal:draft", args=[draft.pk]), final())
    assert again["Location"] == response["Location"]
    assert Case.objects.count() == 1
    # a stale page with another key is told the state; the draft address now leads to the case
    stale = client.post(reverse("portal:draft", args=[draft.pk]), final("other"))
    assert stale.status_code == 409 and "已申报" in _text(stale)
    assert client.get(reverse("portal:draft", args=[draft.pk]))["Location"] == reverse(
        "portal:case_detail", args=[draft.number]
    )


def test_a_draft_page_drops_an_upload_or_a_chosen_licence(client, world):
    client.force_login(world.user)
    data = form_post(world, action="save")
    data[f"material_{world.materials[0].pk}"] = upload(PDF, "申请书.pdf")
    data[f"offer_{world.materials[2].pk}"] = "on"
    client.post(reverse("portal:apply", args=[world.item.code]), data)
    draft = Case.objects.get()
    page = _text(client.get(reverse("portal:draft", args=[draft.pk])))
    assert f'name="offer_{world.materials[2].pk}" id="id_offer_{world.materials[2].pk}" checked' in page
    drop_upload = reverse("portal:draft_remove_material", args=[draft.pk, world.materials[0].pk])
    drop_licence = reverse("portal:draft_remove_material", args=[draft.pk, world.materials[2].pk])
    # the buttons belong to their own form: Enter in a field of the application never presses them
    assert f'form="remove-material" formaction="{drop_upload}"' in page and "删除<span" in page
    assert f'formaction="{drop_licence}"' in page and "不再使用<span" in page
    assert '<form id="remove-material" method="post" hidden>' in page

    response = client.post(drop_licence)
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:draft", args=[draft.pk]))
    page = _text(client.get(response["Location"]))
    assert "已从草稿中删除该材料。" in page and "已选择关联" not in page
    assert f'name="offer_{world.materials[2].pk}" id="id_offer_{world.materials[2].pk}" checked' not in page
    assert client.post(drop_licence).status_code == 302  # twice is harmless
    client.post(drop_upload)
    assert not CaseMaterial.objects.filter(case=draft).exists()
    assert "已上传：申请书.pdf" not in _text(client.get(reverse("portal:draft", args=[draft.pk])))
    client.force_login(world.stranger.user)
    assert client.post(drop_upload).status_code == 404
    assert client.get(drop_upload).status_code == 405


def test_applying_for_the_company_as_its_agent(client, world):
    client.force_login(world.user)
    data = with_files(world, form_post(world, applicant_org=world.company.uscc))
    client.post(reverse("portal:apply", args=[world.item.code]), data)
    case = Case.objects.get()
    assert case.applicant_org == world.company and case.agent == world.citizen
    listing = _text(client.get(reverse("portal:my_cases")))
    assert case.number in listing and "河源市好味餐饮有限公司" in listing


def test_delete_a_draft(client, world):
    client.force_login(world.user)
    client.post(reverse("portal:apply", args=[world.item.code]), form_post(world, action="save"))
    draft = Case.objects.get()
    response = client.post(reverse("portal:draft", args=[draft.pk]), {"action": "delete"})
    assert response["Location"] == reverse("portal:my_cases")
    assert Case.objects.count() == 0


def test_other_peoples_drafts_are_not_found(client, world):
    client.force_login(world.user)
    client.post(reverse("portal:apply", args=[world.item.code]), form_post(world, action="save"))
    draft = Case.objects.get()
    client.force_login(world.stranger.user)
    assert client.get(reverse("portal:draft", args=[draft.pk])).status_code == 404
    assert client.post(reverse("portal:draft", args=[draft.pk]), {"action": "delete"}).status_code == 404
    assert Case.objects.count() == 1


def test_an_account_without_real_name_cannot_apply(client, world):
    client.force_login(world.handler)
    response = client.get(reverse("portal:apply", args=[world.item.code]))
    assert response.status_code == 403 and "实名认证" in _text(response)


def test_an_unknown_item_is_not_found(client, world):
    client.force_login(world.user)
    response = client.get(reverse("portal:apply", args=["NOSUCHITEM"]))
    assert response.status_code == 404


@pytest.mark.parametrize("ref", ["999999", "11441600000000000000000000000000202601010001"])
def test_unknown_case_pages_are_not_found(client, world, ref):
    client.force_login(world.user)
    assert client.get(reverse("portal:case_detail", args=[ref])).status_code == 404


def test_the_form_of_an_immediate_item_says_it_is_decided_on_the_spot(client, world):
    from catalog.factories import published_version

    from yiwang.catalog.models import Handling

    version = published_version(
        department=world.version.item.department, name="个体工商户名称预先核准", handling=Handling.IMMEDIATE,
        promised_days=0, materials=[{"name": "申请书", "formats": "pdf"}],
    )  # fmt: skip
    client.force_login(world.user)
    page = _text(client.get(reverse("portal:apply", args=[version.item.code])))
    assert "当场办结" in page and "承诺0个工作日" not in page
