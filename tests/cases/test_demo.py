"""The demo loader: a case in every state, idempotent, with audit chains that verify; an edited case
event is detected by ``yiwang verify-audit``."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from catalog.factories import STANDARD_STAGES, DepartmentFactory, published_version
from django.core.management import CommandError, call_command
from django.utils import timezone
from freezegun import freeze_time

from yiwang.cases import demo
from yiwang.cases.models import Case, CaseDocument, Delivery, IdempotencyKey, PaymentOrder, Status
from yiwang.catalog.models import Handling, Stage
from yiwang.core.ids import make_uscc
from yiwang.core.models import AuditEvent
from yiwang.identity.models import AgentAuthorization, LegalPerson, StaffRole

from .conftest import make_person, make_staff


@pytest.fixture
def demo_world(db, calendar):
    """What the catalog demo provides: items published well in the past, staff, citizens, an agent."""
    market = DepartmentFactory(name="河源市市场监督管理局")
    hrss = DepartmentFactory(name="河源市人力资源和社会保障局")
    materials = [{"name": "申请书", "formats": "pdf"}, {"name": "身份证明", "formats": "pdf,jpg,png"}]
    past = timezone.localdate() - dt.timedelta(days=120)
    with freeze_time(past.isoformat()):
        published_version(
            department=market, name="食品经营许可", service_object="both", promised_days=10, materials=materials
        )
        published_version(department=market, name="小餐饮登记", promised_days=5, materials=materials)
        published_version(
            department=market, name="特种设备使用登记", fee=Decimal("60"), materials=materials, service_object="both"
        )
        published_version(
            department=market, name="个体工商户名称预先核准", handling=Handling.IMMEDIATE, promised_days=0,
            materials=materials,
        )  # fmt: skip
        published_version(
            department=market,
            name="餐饮服务许可（并联）",
            materials=materials,
            stages=[
                dict(STANDARD_STAGES[0]),
                {
                    "name": "市场监管审查",
                    "kind": Stage.Kind.REVIEW,
                    "role": "reviewer",
                    "order": 2,
                    "parallel_group": "A",
                },
                {
                    "name": "人社审查",
                    "kind": Stage.Kind.REVIEW,
                    "role": "handler",
                    "order": 2,
                    "parallel_group": "A",
                    "department": hrss,
                },
                {"name": "审批", "kind": Stage.Kind.DECIDE, "role": "approver", "order": 3},
            ],
        )
    for name, role in (("综窗", "window_clerk"), ("承办", "handler"), ("审核", "reviewer"), ("审批", "approver")):
        make_staff(f"市监{name}", market, role)
    make_staff("人社承办", hrss, StaffRole.Role.HANDLER)
    for name in ("张三", "李四", "王五", "赵六"):
        make_person(name)
    agent = make_person("钱七")
    company = LegalPerson.objects.create(name="河源市好味餐饮有限公司", uscc=make_uscc("91441600", "MA4ABCD1"))
    AgentAuthorization.objects.create(person=agent, organisation=company)


def run_demo() -> str:
    out = io.StringIO()
    demo.load(out)
    return out.getvalue()


def test_demo_has_every_state_and_is_idempotent(demo_world):
    report = run_demo()
    assert "新建 18 个演示场景" in report, report
    statuses = set(Case.objects.values_list("status", flat=True))
    assert statuses == set(Status.values), set(Status.values) - statuses
    assert Case.objects.filter(deemed_accepted=True).exists()
    assert Case.objects.filter(warning_level="red").exists()
    assert Case.objects.filter(warning_level="yellow").exists()
    assert PaymentOrder.objects.filter(status="paid").exists() and PaymentOrder.objects.filter(status="unpaid").exists()
    post = Delivery.objects.get(method="post")
    assert post.tracking_number and post.address
    assert Case.objects.filter(applicant_org__isnull=False).exists()
    assert Case.objects.filter(channel="window", status=Status.DELIVERED).exists()
    # the history is genuinely back-dated: the overdue case was accepted weeks ago
    red = IdempotencyKey.objects.get(key="demo:red").case
    assert red.warning_level == "red"
    assert red.accepted_at < timezone.now() - dt.timedelta(days=14)
    assert all(e.at <= timezone.now() for e in AuditEvent.objects.filter(subject_type="cases.case"))
    assert CaseDocument.objects.filter(kind="decision").exists()

    counts = Case.objects.count()
    again = run_demo()
    assert "新建 0 个演示场景" in again
    assert Case.objects.count() == counts


def test_each_case_history_runs_forward_in_time(demo_world):
    run_demo()
    for case in Case.objects.exclude(status=Status.DRAFT):
        times = list(AuditEvent.objects.filter(subject_type="cases.case", subject_id=str(case.pk)).order_by("seq"))
        moments = [e.at for e in times if e.action != "warning_changed"]
        assert moments == sorted(moments), (case.number, [(e.action, e.at) for e in times])


def test_verify_audit_passes_on_the_demo_and_detects_an_edited_case_event(demo_world):
    run_demo()
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "校验通过" in out.getvalue()
    event = AuditEvent.objects.filter(subject_type="cases.case", action="decided").first()
    data = dict(event.data)
    data["decision"] = "approved" if data.get("decision") == "denied" else "denied"
    AuditEvent.objects.filter(pk=event.pk).update(data=data)
    broken = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit", stdout=broken)
    assert "事件内容被修改" in broken.getvalue()
    assert f"第{event.seq}" in broken.getvalue() or str(event.seq) in broken.getvalue()


def test_demo_on_top_of_the_catalog_demo(db, calendar):
    from yiwang.demo import loader

    loader.load_people_and_catalog(io.StringIO())
    report = run_demo()
    assert "新建 18 个演示场景" in report and "跳过" not in report, report
    assert set(Case.objects.values_list("status", flat=True)) == set(Status.values)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "校验通过" in out.getvalue()
