"""`verify-audit` checks the rows of cases and licences against their chains: a row whose state was
changed around the services, or whose chain was deleted or cut short before any checkpoint sealed
it, is named — the tampering that the chains and checkpoints alone cannot see."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from catalog.factories import DepartmentFactory
from django.core.management import CommandError, call_command
from licences.factories import citizen, food_data, licence_type

from yiwang.cases.models import Case, Status
from yiwang.core import audit, verify
from yiwang.core.models import AuditEvent
from yiwang.core.verify import verify_audit
from yiwang.licences import services as licence_services
from yiwang.licences.models import Licence

pytestmark = pytest.mark.django_db


def _label(case: Case) -> str:
    return f"cases.case:{case.pk}"


def test_cases_made_through_the_services_agree_with_their_chains(world, accepted, submit):
    accepted(), submit()
    report = verify_audit()
    assert report.ok, report.problems
    assert report.rows == Case.objects.count() == 2


def test_a_status_changed_around_the_services_is_named(world, accepted):
    case, other = accepted(), accepted()
    Case.objects.filter(pk=case.pk).update(status=Status.APPROVED)
    problems = verify_audit().problems
    assert [(p.kind, p.subject) for p in problems] == [("state_differs", _label(case))]
    assert "记录中的状态为“approved”，记录链最后记载的是“accepted”" in problems[0].message
    assert other.pk != case.pk


def test_a_chain_tail_deleted_before_the_checkpoint_is_found_by_the_row(world, accepted):
    case = accepted()  # events: submitted, accepted; no checkpoint yet
    audit.history(case).last().delete()  # the chain 1..n-1 is intact by itself
    problems = verify_audit().problems
    assert [(p.kind, p.subject) for p in problems] == [("state_differs", _label(case))]
    assert "记录链最后记载的是“submitted”" in problems[0].message


def test_a_whole_chain_deleted_before_the_checkpoint_is_found(world, accepted):
    case = accepted()
    audit.history(case).delete()
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit", stdout=out)
    assert f"第一处断裂：{_label(case)}：没有任何审计事件" in out.getvalue()


def test_many_rows_without_chain_are_counted(world, accepted, monkeypatch):
    cases = [accepted() for _ in range(3)]
    AuditEvent.objects.filter(subject_type="cases.case").delete()
    monkeypatch.setattr(verify, "NAMED_ROWS", 1)
    problems = verify_audit().problems
    assert [p.subject for p in problems] == [_label(cases[0]), "cases.case"]
    assert "另有 2 行同样没有审计事件" in problems[1].message


def test_a_licence_status_changed_around_the_services_is_named():
    licence = licence_services.issue_licence(
        licence_type=licence_type(), issuer=DepartmentFactory(), holder=citizen("张三"), data=food_data(),
        issue_date=dt.date(2024, 1, 10),
    )  # fmt: skip
    assert verify_audit().ok
    licence_services.suspend_licence(licence, actor=None, reason="核查")
    assert verify_audit().ok
    Licence.objects.filter(pk=licence.pk).update(status=Licence.Status.VALID)
    problems = verify_audit().problems
    assert [(p.kind, p.subject) for p in problems] == [("state_differs", f"licences.licence:{licence.pk}")]
