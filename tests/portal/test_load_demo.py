"""`yiwang load-demo` as a newcomer runs it: every part of the demo, in order, twice."""

import io

import pytest
from django.core.management import call_command

from yiwang.cases.models import Case
from yiwang.core.models import AuditEvent
from yiwang.licences.models import Licence


@pytest.mark.django_db(transaction=True)
def test_load_demo_issues_licences_for_approved_cases_and_runs_twice_unchanged():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    text = out.getvalue()
    assert "演示账号（密码均为 Yiwang@2026）" in text
    # the demo's whole history is sealed when the command ends, not at the worker's next run
    assert "条事件已封存入检查点" in text
    assert not AuditEvent.objects.filter(checkpoint__isnull=True).exists()

    approved = Case.objects.filter(decision="approved", version__result_type="licence")
    assert approved.exists()
    for case in approved:
        # 同步签发: the licence was issued by the decision itself, not caught up afterwards
        assert Licence.objects.filter(case_id=case.pk, version=1).count() == 1

    counts = (Case.objects.count(), Licence.objects.count())
    call_command("load_demo", stdout=io.StringIO())
    assert (Case.objects.count(), Licence.objects.count()) == counts

    report = io.StringIO()
    call_command("verify_audit", stdout=report)
    assert "校验通过" in report.getvalue()
    # every case and licence row was checked against its chain
    assert f"核对了 {counts[0] + counts[1]} 条办件、证照等记录的状态" in report.getvalue()
