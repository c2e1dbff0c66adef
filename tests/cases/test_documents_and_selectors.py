"""Generated notices (stored, hashed, sealed) and the shared reads: who sees what, queues, progress."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from yiwang.cases import documents, selectors, services
from yiwang.cases.models import CaseDocument, Status
from yiwang.core.errors import NotFound
from yiwang.core.sm import sm3_hex

from .conftest import files_for


def read(document: CaseDocument) -> bytes:
    with default_storage.open(document.file.name, "rb") as fh:
        return fh.read()


def test_receipt_is_a_sealed_pdf_with_its_digest(world, accepted):
    case = accepted()
    receipt = case.documents.get(kind="receipt")
    pdf = read(receipt)
    assert pdf.startswith(b"%PDF-")
    assert sm3_hex(pdf) == receipt.sm3
    assert receipt.title == "受理回执"
    assert documents.verify(receipt)
    # the digest is also in the case's audit chain
    from yiwang.core import audit

    assert audit.history(case).get(action="accepted").data["document"]["sm3"] == receipt.sm3


def test_a_tampered_document_no_longer_verifies(world, accepted):
    receipt = accepted().documents.get(kind="receipt")
    with default_storage.open(receipt.file.name, "wb") as fh:
        fh.write(read(receipt).replace(b"%%EOF", b"%%EOF\n% edited"))
    assert not documents.verify(receipt)


def test_notices_embed_the_cjk_font_and_the_case_number(world, submit):
    case = submit()
    services.request_correction(world.handler, case, items=[{"material": world.materials[0].pk, "problem": "缺少签名"}])
    pdf = read(case.documents.get(kind="correction"))
    assert b"WenQuanYi" in pdf  # embedded font, readable on any machine
    assert len(pdf) > 5000


def test_decision_document_for_a_denial(world, accepted):
    from .test_state_machine import through_stages

    case = through_stages(world, accepted())
    services.decide(world.approver, case, approve=False, reason="经营场所与申请不符")
    decision = case.documents.get(kind="decision")
    assert decision.title == "不予行政许可决定书"
    assert documents.verify(decision)


def test_applicant_sees_own_cases_and_drafts_only(world, submit):
    mine = submit()
    draft = services.save_draft(world.citizen_user, item=world.item)
    theirs = submit(user=world.stranger_user)
    listed = set(selectors.cases_for_applicant(world.citizen_user).values_list("pk", flat=True))
    assert listed == {mine.pk, draft.pk}
    assert selectors.case_for_user(world.citizen_user, mine.number) == mine
    for ref in (theirs.number, theirs.pk, draft.pk):
        with pytest.raises(NotFound):
            selectors.case_for_user(world.stranger_user if ref == draft.pk else world.citizen_user, ref)


def test_staff_see_their_department_only_and_never_drafts(world, submit):
    case = submit()
    draft = services.save_draft(world.citizen_user, item=world.item)
    assert selectors.case_for_user(world.handler, case.number) == case
    with pytest.raises(NotFound):
        selectors.case_for_user(world.handler, draft.pk)
    with pytest.raises(NotFound):
        selectors.case_for_user(world.other_handler, case.number)
    assert list(selectors.acceptance_queue(world.handler)) == [case]
    assert list(selectors.acceptance_queue(world.other_clerk)) == []


def test_work_queue_by_department_and_role(world, accepted):
    case = accepted()
    assert [t.case for t in selectors.work_queue(world.handler)] == [case]
    assert list(selectors.work_queue(world.reviewer)) == []
    assert list(selectors.work_queue(world.handler, role="reviewer")) == []
    services.claim_task(world.handler, case)
    services.pass_task(world.handler, case)
    assert [t.name for t in selectors.work_queue(world.reviewer, department=world.market)] == ["审核"]


def test_available_actions_follow_state_and_role(world, submit):
    case = submit()
    assert set(selectors.available_actions(world.citizen_user, case)) == {"withdraw"}
    assert {"accept", "refuse", "request-correction"} <= set(selectors.available_actions(world.handler, case))
    assert selectors.available_actions(world.other_handler, case) == []
    case = services.accept_case(world.handler, case)
    assert "claim" in selectors.available_actions(world.handler, case)
    assert "claim" not in selectors.available_actions(world.reviewer, case)


def test_applicant_todo_lists_corrections(world, submit):
    case = submit()
    services.request_correction(world.handler, case, items=[{"material": world.materials[1].pk, "problem": "过期"}])
    case.refresh_from_db()
    todo = selectors.applicant_todo(case)
    assert todo[0]["kind"] == "correction" and todo[0]["items"][0]["problem"] == "过期"


def test_progress_query_without_login_reveals_no_personal_data(world, accepted):
    case = accepted()
    services.claim_task(world.handler, case)
    result = selectors.progress_query(case.number, world.citizen.id_number[-4:])
    assert result["status"] == Status.IN_REVIEW
    assert result["current_departments"] == ["河源市市场监督管理局"]
    assert [e["label"] for e in result["timeline"]] == ["提交申请", "受理"]
    text = repr(result)
    for secret in (world.citizen.name, world.citizen.id_number, world.handler.username, "13800138000"):
        assert secret not in text
    with pytest.raises(NotFound) as wrong:
        selectors.progress_query(case.number, "0000" if world.citizen.id_number[-4:] != "0000" else "1111")
    with pytest.raises(NotFound) as unknown:
        selectors.progress_query("NOPE", world.citizen.id_number[-4:])
    assert wrong.value.message == unknown.value.message


def test_timeline_for_the_applicant_shows_departments_not_people(world, accepted):
    case = accepted()
    services.claim_task(world.handler, case)
    services.pass_task(world.handler, case, comment="内部意见")
    entries = selectors.timeline(case, audience="applicant")
    assert all("actor" not in e for e in entries)
    assert {e["department"] for e in entries} == {"河源市市场监督管理局"}
    staff_view = selectors.timeline(case, audience="staff")
    assert any(e["actor"] == world.handler.username for e in staff_view)


def test_window_clerk_sees_the_cases_they_took_in(world):
    case = services.start_window_case(
        world.other_clerk,
        item=world.item,
        id_number=world.citizen.id_number,
        form_data=world.form,
        files=files_for(world),
    )
    assert selectors.case_for_user(world.other_clerk, case.number) == case
    assert case in selectors.acceptance_queue(world.other_clerk)
    # the applicant, who has an account, sees the window case as their own
    assert selectors.case_for_user(world.citizen_user, case.number) == case


# --- what the notices say (read back from the PDF as a reader shows it) ----------------------


def _immediate_window_case(world):
    from catalog.factories import published_version

    from yiwang.catalog.models import Handling

    world.market.phone = "0762-3388123"
    world.market.save()
    version = published_version(
        department=world.market, name="个体工商户名称预先核准", handling=Handling.IMMEDIATE, promised_days=0,
        location="河源市行政服务中心综合受理窗口", consult_phone="",
        materials=[{"name": "申请书", "formats": "pdf"}],
    )  # fmt: skip
    material = version.materials.get()
    return services.start_window_case(
        world.clerk, item=version.item, id_number=world.citizen.id_number, form_data=world.form,
        files={material.pk: files_for(world)[world.materials[0].pk]}, accept=True,
    )  # fmt: skip


def test_the_receipt_of_an_immediate_item_says_so_and_names_window_clerk_phone_and_seal(world):
    from catalog.pdftools import page_text

    case = _immediate_window_case(world)
    text = page_text(read(case.documents.get(kind="receipt")))
    assert "即办件，当场办结" in text and "0个工作日" not in text
    assert "受理窗口河源市行政服务中心综合受理窗口" in text
    assert "受理人窗口甲" in text and world.clerk.username not in text
    assert "联系电话0762-3388123" in text
    assert "电子印章" in text and "本文书由河源市市场监督管理局加盖电子印章" in text
    assert case.documents.get(kind="receipt").key_id in text


def test_a_promised_items_receipt_keeps_its_working_days(world, accepted):
    from catalog.pdftools import page_text

    text = page_text(read(accepted().documents.get(kind="receipt")))
    assert f"{world.version.promised_days}个工作日" in text
    assert "受理人承办人" in text and "办理地点" in text and "电子印章" in text


def test_the_correction_notice_and_the_decision_carry_clerk_phone_and_seal(world, submit, accepted):
    from catalog.pdftools import page_text

    from .test_state_machine import through_stages

    phone = f"联系电话{world.version.consult_phone}"  # the item's 咨询电话 comes before the department's
    case = submit()
    services.request_correction(
        world.handler, case, items=[{"material": world.materials[0].pk, "problem": "缺少签名。"}]
    )
    notice = page_text(read(case.documents.get(kind="correction")))
    assert "经办人承办人" in notice and phone in notice and "电子印章" in notice
    assert "缺少签名" in notice and world.handler.username not in notice
    decided = through_stages(world, accepted())
    services.decide(world.approver, decided, approve=True)
    decision = page_text(read(decided.documents.get(kind="decision")))
    assert phone in decision and "本文书由河源市市场监督管理局加盖电子印章" in decision
