"""The explicit state machine: every transition, its permissions, its events and notifications."""

from __future__ import annotations

from decimal import Decimal

import pytest
from catalog.factories import published_version
from django.utils import timezone

from yiwang.cases import services
from yiwang.cases.models import CaseTask, ClockPause, Delivery, Extension, PaymentOrder, Status, WarningLevel
from yiwang.cases.signals import case_decided
from yiwang.catalog.models import Handling, Stage
from yiwang.core import audit
from yiwang.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yiwang.core.models import Notification

from .conftest import PDF, files_for, upload


def actions(case) -> list[str]:
    return [e.action for e in audit.history(case)]


def through_stages(world, case):
    """承办 → 审核 → (审批 claimed), returning the case in review with the approver holding the decide task."""
    services.claim_task(world.handler, case)
    services.pass_task(world.handler, case, comment="材料齐全")
    services.claim_task(world.reviewer, case)
    services.pass_task(world.reviewer, case, comment="符合条件")
    services.claim_task(world.approver, case)
    return case


@pytest.fixture
def decisions():
    received = []

    def receiver(sender, case, approved, **kwargs):
        received.append((case.number, approved))

    case_decided.connect(receiver, dispatch_uid="test-decisions")
    yield received
    case_decided.disconnect(dispatch_uid="test-decisions")


def test_full_journey_with_events_notifications_and_one_decision_signal(
    world, submit, decisions, django_capture_on_commit_callbacks
):
    case = submit()
    case = services.accept_case(world.handler, case)
    assert case.status == Status.ACCEPTED and case.clock_start == timezone.localdate()
    assert case.due_date is not None
    tasks = list(case.tasks.all())
    assert [(t.name, t.status) for t in tasks] == [("承办", CaseTask.State.OPEN)]
    through_stages(world, case)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.decide(world.approver, case, approve=True, reason="符合条件")
    assert case.status == Status.APPROVED and case.decision == "approved"
    assert decisions == [(case.number, True)]
    case = services.complete_case(world.handler, case)
    delivery = services.deliver(
        world.clerk if case.clerk_id == world.clerk.pk else world.handler,
        case,
        method="post",
        address="广东省河源市源城区文明路1号",
        carrier="EMS",
        tracking_number="EM123456789CN",
    )
    assert delivery.tracking_number == "EM123456789CN"
    case.refresh_from_db()
    assert case.status == Status.DELIVERED
    assert actions(case) == [
        "submitted",
        "accepted",
        "task_claimed",
        "task_passed",
        "task_claimed",
        "task_passed",
        "task_claimed",
        "decided",
        "completed",
        "delivered",
    ]
    event = audit.history(case).get(action="accepted")
    assert event.actor == world.handler.username and event.actor_role == "handler"
    assert event.data["before"] == "submitted" and event.data["after"] == "accepted"
    subjects = list(Notification.objects.filter(user=world.citizen_user).values_list("subject", flat=True))
    assert {"办件已受理", "办件已作出决定", "办件已办结", "办理结果已送达"} <= set(subjects)
    assert set(case.documents.values_list("kind", flat=True)) == {"receipt", "decision"}


def test_invalid_transitions_are_conflicts_in_chinese(world, submit):
    case = submit()
    with pytest.raises(Conflict) as err:
        services.complete_case(world.handler, case)
    assert "已申报，待受理" in err.value.message
    services.accept_case(world.handler, case)
    with pytest.raises(Conflict):
        services.accept_case(world.reviewer, case)
    with pytest.raises(Conflict):
        services.refuse_case(world.handler, case, reason="x")
    with pytest.raises(Conflict):
        services.decide(world.approver, case, approve=True)


def test_staff_of_another_department_do_not_see_the_case(world, submit):
    case = submit()
    with pytest.raises(NotFound):
        services.accept_case(world.other_handler, case)
    with pytest.raises(NotFound):
        services.accept_case(world.other_clerk, case)
    with pytest.raises(NotFound):
        services.withdraw(world.stranger_user, case)
    with pytest.raises(Forbidden):  # the applicant sees the case but is not staff
        services.accept_case(world.citizen_user, case)


def test_refusal_with_reason_and_notice(world, submit):
    case = submit()
    with pytest.raises(InvalidInput):
        services.refuse_case(world.handler, case, reason=" ")
    case = services.refuse_case(world.handler, case, reason="不属于本机关职权范围")
    assert case.status == Status.REFUSED
    assert case.documents.get().kind == "refusal"
    assert Notification.objects.filter(user=world.citizen_user, subject="办件不予受理").exists()


def test_correction_is_one_time_per_round_and_restarts_the_acceptance_clock(world, submit):
    case = submit()
    items = [
        {"material": world.materials[0].pk, "problem": "未签名"},
        {"field": "phone", "problem": "电话无法接通"},
    ]
    correction = services.request_correction(world.handler, case, items=items)
    assert correction.round == 1 and correction.items[0]["material_name"] == "食品经营许可申请书"
    case.refresh_from_db()
    assert case.status == Status.CORRECTION_REQUESTED
    with pytest.raises(Conflict) as err:
        services.request_correction(world.reviewer, case, items=[{"problem": "还有一处"}])
    assert "一次性告知" in err.value.message
    # the named material must be supplied again
    with pytest.raises(InvalidInput) as err:
        services.resubmit_correction(world.citizen_user, case, form_data={"phone": "13900000000"})
    assert f"material_{world.materials[0].pk}" in err.value.errors
    case = services.resubmit_correction(
        world.citizen_user,
        case,
        form_data={"phone": "13900000000"},
        files={world.materials[0].pk: upload(PDF + b"%signed")},
    )
    assert case.status == Status.SUBMITTED and case.submission_round == 2
    assert case.form_data["phone"] == "13900000000"
    assert case.received_on == timezone.localdate()
    # a new round may get its own (one-time) request
    services.request_correction(
        world.handler, case, items=[{"problem": "印章不清晰", "material": world.materials[1].pk}]
    )
    assert case.documents.filter(kind="correction").count() == 2
    assert Notification.objects.filter(user=world.citizen_user, subject="请补正申请材料").count() == 2


def test_correction_after_acceptance_stops_the_decision_clock(world, accepted):
    case = accepted()
    services.claim_task(world.handler, case)
    services.request_correction(world.handler, case, items=[{"material": world.materials[1].pk, "problem": "模糊"}])
    pause = ClockPause.objects.get(case=case)
    assert pause.kind == "correction" and pause.ended_at is None
    case = services.resubmit_correction(world.citizen_user, case, files=files_for(world, 1))
    assert case.status == Status.IN_REVIEW
    pause.refresh_from_db()
    assert pause.ended_at is not None


def test_request_correction_needs_every_problem_described(world, submit):
    case = submit()
    with pytest.raises(InvalidInput):
        services.request_correction(world.handler, case, items=[])
    with pytest.raises(InvalidInput):
        services.request_correction(world.handler, case, items=[{"material": world.materials[0].pk}])
    with pytest.raises(InvalidInput):
        services.request_correction(world.handler, case, items=[{"field": "nonexistent", "problem": "?"}])


def test_claim_conflict_and_role_check(world, accepted):
    case = accepted()
    with pytest.raises(Conflict):  # no task for a reviewer at the 承办 step
        services.claim_task(world.reviewer, case)
    task = services.claim_task(world.handler, case)
    assert task.assignee == world.handler
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW
    with pytest.raises(Conflict) as err:
        services.claim_task(world.handler, case, task.pk)
    assert "签收" in err.value.message
    with pytest.raises(Conflict):
        services.pass_task(world.reviewer, case)


def test_return_sends_the_case_back_with_a_comment(world, accepted):
    case = accepted()
    services.claim_task(world.handler, case)
    with pytest.raises(Conflict):  # nothing before the first stage
        services.return_task(world.handler, case, comment="退回")
    services.pass_task(world.handler, case)
    services.claim_task(world.reviewer, case)
    with pytest.raises(InvalidInput):
        services.return_task(world.reviewer, case, comment="")
    services.return_task(world.reviewer, case, comment="场所证明不清晰，请核实")
    open_tasks = case.tasks.filter(status=CaseTask.State.OPEN)
    assert [t.name for t in open_tasks] == ["承办"]
    event = audit.history(case).get(action="task_returned")
    assert event.data["comment"] == "场所证明不清晰，请核实"


def test_parallel_stages_wait_for_all(world, submit):
    version = published_version(
        department=world.market,
        service_object="both",
        materials=[{"name": "申请书", "formats": "pdf"}],
        stages=[
            {"name": "承办", "kind": Stage.Kind.HANDLE, "role": "handler", "time_share": 30},
            {
                "name": "市场监管审查",
                "kind": Stage.Kind.REVIEW,
                "role": "reviewer",
                "time_share": 30,
                "parallel_group": "并联",
                "order": 2,
            },
            {
                "name": "人社审查",
                "kind": Stage.Kind.REVIEW,
                "role": "handler",
                "time_share": 30,
                "parallel_group": "并联",
                "order": 2,
                "department": world.other,
            },
            {"name": "审批", "kind": Stage.Kind.DECIDE, "role": "approver", "time_share": 10, "order": 3},
        ],
    )
    material = version.materials.get()
    case = services.submit_case(
        world.citizen_user, item=version.item, form_data=world.form, files={material.pk: upload()}
    )
    services.accept_case(world.handler, case)
    services.claim_task(world.handler, case)
    services.pass_task(world.handler, case)
    step = case.tasks.filter(step=1)
    assert sorted(t.name for t in step) == ["人社审查", "市场监管审查"]
    # the other department now sees the case through its task
    services.claim_task(world.other_handler, case)
    services.pass_task(world.other_handler, case, comment="同意")
    assert not case.tasks.filter(step=2).exists()  # still waiting for the other branch
    services.claim_task(world.reviewer, case)
    services.pass_task(world.reviewer, case)
    assert [t.name for t in case.tasks.filter(step=2)] == ["审批"]


def test_immediate_item_is_decided_at_the_window(world, decisions, django_capture_on_commit_callbacks):
    version = published_version(
        department=world.market, service_object="both", handling=Handling.IMMEDIATE, promised_days=0,
        materials=[{"name": "申请书", "formats": "pdf"}],
    )  # fmt: skip
    material = version.materials.get()
    case = services.start_window_case(
        world.other_clerk,
        item=version.item,
        id_number=world.citizen.id_number,
        form_data=world.form,
        files={material.pk: upload()},
        accept=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        case = services.decide(world.other_clerk, case, approve=True, reason="当场办结")
    assert case.status == Status.APPROVED
    assert decisions == [(case.number, True)]
    assert not case.tasks.filter(status__in=["open", "claimed"]).exists()
    # the clerk who took it in may complete and deliver it at the window (统一出件)
    services.complete_case(world.other_clerk, case)
    services.deliver(world.other_clerk, case, method="window")
    case.refresh_from_db()
    assert case.status == Status.DELIVERED


def test_denial_needs_reasons(world, accepted, decisions, django_capture_on_commit_callbacks):
    case = through_stages(world, accepted())
    with pytest.raises(InvalidInput):
        services.decide(world.approver, case, approve=False)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.decide(world.approver, case, approve=False, reason="营业场所不符合卫生条件")
    assert case.status == Status.DENIED and case.decision_reason == "营业场所不符合卫生条件"
    assert decisions == [(case.number, False)]
    with pytest.raises(Conflict), django_capture_on_commit_callbacks(execute=True):
        services.decide(world.approver, case, approve=True)
    assert len(decisions) == 1


def test_special_procedure_suspends_and_resumes(world, accepted):
    case = accepted()
    services.claim_task(world.handler, case)
    with pytest.raises(InvalidInput):
        services.start_special_procedure(world.handler, case, kind="correction", reason="x")
    pause = services.start_special_procedure(world.handler, case, kind="inspection", reason="需现场核查经营场所")
    case.refresh_from_db()
    assert case.status == Status.SUSPENDED and pause.applicant_informed_at is not None
    assert case.documents.filter(kind="special_procedure").exists()
    assert Notification.objects.filter(user=world.citizen_user, subject="办件进入特别程序").exists()
    with pytest.raises(Conflict):
        services.pass_task(world.handler, case)
    case = services.end_special_procedure(world.handler, case, result="现场符合要求")
    assert case.status == Status.IN_REVIEW
    assert ClockPause.objects.get(pk=pause.pk).result == "现场符合要求"


def test_extension_up_to_ten_days_approved_by_an_approver(world, accepted):
    case = accepted()
    due = case.due_date
    with pytest.raises(InvalidInput):
        services.request_extension(world.handler, case, days=11, reason="复杂")
    extension = services.request_extension(world.handler, case, days=6, reason="需补充调查")
    with pytest.raises(Conflict):
        services.request_extension(world.handler, case, days=1, reason="再延")
    with pytest.raises(Forbidden):
        services.approve_extension(world.reviewer, extension)
    services.approve_extension(world.approver, extension)
    case.refresh_from_db()
    assert case.due_date > due
    with pytest.raises(InvalidInput):
        services.request_extension(world.handler, case, days=5, reason="超过合计")
    rejected = services.request_extension(world.handler, case, days=4, reason="再延")
    services.approve_extension(world.approver, rejected, approve=False)
    assert Extension.objects.get(pk=rejected.pk).status == Extension.State.REJECTED
    with pytest.raises(Conflict):
        services.approve_extension(world.approver, rejected)


@pytest.fixture
def fee_world(world):
    version = published_version(
        department=world.market, service_object="both", fee=Decimal("50.00"), fee_before_completion=True,
        materials=[{"name": "申请书", "formats": "pdf"}],
    )  # fmt: skip
    return version


def test_fee_must_be_paid_before_completion(world, fee_world):
    material = fee_world.materials.get()
    case = services.submit_case(
        world.citizen_user, item=fee_world.item, form_data=world.form, files={material.pk: upload()}
    )
    services.accept_case(world.handler, case)
    through_stages(world, case)
    case = services.decide(world.approver, case, approve=True)
    order = PaymentOrder.objects.get(case=case)
    assert order.amount == Decimal("50.00") and order.status == PaymentOrder.State.UNPAID
    with pytest.raises(Conflict) as err:
        services.complete_case(world.handler, case)
    assert "缴费" in err.value.message
    with pytest.raises(NotFound):
        services.simulate_payment(world.stranger_user, order)
    paid = services.simulate_payment(world.citizen_user, order)
    assert paid.status == PaymentOrder.State.PAID and paid.provider_reference.startswith("DEV")
    assert services.complete_case(world.handler, case).status == Status.COMPLETED
    assert "payment_paid" in actions(case)


def test_fee_after_completion_is_configurable(world):
    version = published_version(
        department=world.market, service_object="both", fee=Decimal("20"), fee_before_completion=False,
        materials=[{"name": "申请书", "formats": "pdf"}],
    )  # fmt: skip
    case = services.submit_case(
        world.citizen_user, item=version.item, form_data=world.form, files={version.materials.get().pk: upload()}
    )
    services.accept_case(world.handler, case)
    through_stages(world, case)
    services.decide(world.approver, case, approve=True)
    assert services.complete_case(world.handler, case).status == Status.COMPLETED
    assert case.payments.get().status == PaymentOrder.State.UNPAID


def test_payment_callback_signature_is_verified(world, fee_world):
    from yiwang.cases.payments import DevPaymentProvider

    case = services.submit_case(
        world.citizen_user, item=fee_world.item, form_data=world.form, files={fee_world.materials.get().pk: upload()}
    )
    services.accept_case(world.handler, case)
    order = services.create_payment_order(world.handler, case)
    with pytest.raises(Conflict):
        services.create_payment_order(world.handler, case)
    body, headers = DevPaymentProvider().simulate_callback(order)
    with pytest.raises(Forbidden):
        services.handle_payment_callback("dev", body.replace(b"50.00", b"0.01"), headers)
    with pytest.raises(Forbidden):
        services.handle_payment_callback("dev", body, {**headers, "X-Pay-Signature": "AAAA"})
    assert services.handle_payment_callback("dev", body, headers).status == PaymentOrder.State.PAID
    # the provider repeats its notice: nothing changes, no second event
    services.handle_payment_callback("dev", body, headers)
    assert actions(case).count("payment_paid") == 1


def test_delivery_by_post_needs_address_and_tracking_number(world, accepted):
    case = through_stages(world, accepted())
    services.decide(world.approver, case, approve=True)
    services.complete_case(world.handler, case)
    with pytest.raises(InvalidInput) as err:
        services.deliver(world.handler, case, method="post", address="河源市")
    assert err.value.field == "tracking_number"
    services.deliver(world.handler, case, method="electronic")
    assert Delivery.objects.get(case=case).method == "electronic"


def test_applicant_withdraws_before_the_decision(world, accepted):
    case = accepted()
    with pytest.raises(Forbidden):
        services.withdraw(world.handler, case)
    case = services.withdraw(world.citizen_user, case, reason="不再需要")
    assert case.status == Status.WITHDRAWN
    assert not case.tasks.filter(status__in=["open", "claimed"]).exists()
    with pytest.raises(Conflict):
        services.withdraw(world.citizen_user, case)


def test_window_clerk_may_act_on_cases_they_took_in(world):
    case = services.start_window_case(
        world.other_clerk, item=world.item, id_number=world.citizen.id_number, form_data=world.form,
        files=files_for(world),
    )  # fmt: skip
    services.refuse_case(world.other_clerk, case, reason="材料系伪造")
    other = services.start_window_case(
        world.clerk, item=world.item, id_number=world.citizen.id_number, form_data=world.form, files=files_for(world)
    )
    with pytest.raises(NotFound):
        services.accept_case(world.other_clerk, other)


def test_agent_of_an_organisation_acts_for_its_cases(world):
    case = services.submit_case(
        world.agent.user, item=world.item, applicant_org=world.company, form_data=world.form, files=files_for(world)
    )
    services.accept_case(world.handler, case)
    assert Notification.objects.filter(user=world.agent.user, subject="办件已受理").exists()
    assert services.withdraw(world.agent.user, case).status == Status.WITHDRAWN


def test_warning_level_is_cleared_by_a_decision(world, accepted):
    case = through_stages(world, accepted())
    type(case).objects.filter(pk=case.pk).update(warning_level=WarningLevel.RED)
    assert services.decide(world.approver, case, approve=True).warning_level == WarningLevel.NONE
