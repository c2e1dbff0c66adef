"""Change, renew, suspend, resume, revoke; the nightly expiry and the 30-day reminder."""

import datetime as dt

import pytest
from catalog.factories import DepartmentFactory
from freezegun import freeze_time

from licences.factories import citizen, food_data, licence_type, organisation, staff
from yiwang.core import audit
from yiwang.core.errors import Conflict, Forbidden, InvalidInput
from yiwang.core.models import Notification
from yiwang.licences import services
from yiwang.licences.models import HolderKind, Licence
from yiwang.licences.seal import make_identifier
from yiwang.licences.tasks import daily_expiry
from yiwang.licences.verification import verify_licence

pytestmark = pytest.mark.django_db


@pytest.fixture
def licence():
    return services.issue_licence(
        licence_type=licence_type(), issuer=DepartmentFactory(), holder=citizen("张三"), data=food_data(),
        issue_date=dt.date(2024, 1, 10),
    )  # fmt: skip


def actions(licence) -> list[str]:
    return [e.action for e in audit.history(licence)]


def test_a_change_seals_a_new_version_and_supersedes_the_old_one(licence):
    clerk = staff(licence.issuer)
    new = services.change_licence(licence, actor=clerk, reason="经营场所变更", data={"address": "新址2号"})
    old = Licence.objects.get(pk=licence.pk)
    assert old.status == "superseded" and old.status_reason == "经营场所变更"
    assert (new.number, new.serial, new.version, new.previous_id) == (old.number, old.serial, 2, old.pk)
    assert new.identifier == make_identifier(old.type_code, old.issuer_code, old.serial, 2)
    assert new.data["address"] == "新址2号" and new.data["shop_name"] == old.data["shop_name"]
    assert (new.valid_from, new.valid_until) == (old.valid_from, old.valid_until)
    assert new.origin == "change" and new.status == "valid"
    assert verify_licence(new).genuine and verify_licence(old).genuine
    assert verify_licence(old).notes == ["该版本已换发，现行版本为 002。"]
    assert actions(old) == ["licence.issued", "licence.superseded"]
    assert actions(new) == ["licence.change"]
    assert audit.history(new).first().data["reason"] == "经营场所变更"


def test_a_change_needs_a_reason_a_difference_and_the_issuer(licence):
    with pytest.raises(InvalidInput, match="请填写理由"):
        services.change_licence(licence, actor=None, reason=" ", data={"address": "x"})
    with pytest.raises(InvalidInput, match="没有需要变更的内容"):
        services.change_licence(licence, actor=None, reason="无", data=dict(licence.data))
    with pytest.raises(Forbidden):
        services.change_licence(licence, actor=staff(), reason="越权", data={"address": "x"})
    with pytest.raises(InvalidInput, match="缺少照面信息：经营场所"):
        services.change_licence(licence, actor=None, reason="清空", data={"address": ""})
    assert Licence.objects.count() == 1


def test_a_suspended_licence_stays_suspended_when_changed(licence):
    services.suspend_licence(licence, actor=None, reason="检查")
    new = services.change_licence(licence, actor=None, reason="更名", holder_name="张叁")
    assert (new.status, new.holder_name) == ("suspended", "张叁")


def test_suspend_resume_revoke_with_reasons_and_audit(licence):
    clerk = staff(licence.issuer)
    services.suspend_licence(licence, actor=clerk, reason="抽检不合格")
    with pytest.raises(Conflict, match="证照当前状态为“已暂扣”，不能暂扣"):
        services.suspend_licence(licence, actor=clerk, reason="再次")
    services.resume_licence(licence, actor=clerk, reason="整改到位")
    services.revoke_licence(licence, actor=clerk, reason="以欺骗手段取得")
    with pytest.raises(Conflict, match="不能恢复"):
        services.resume_licence(licence, actor=clerk, reason="误操作")
    row = Licence.objects.get(pk=licence.pk)
    assert (row.status, row.status_reason) == ("revoked", "以欺骗手段取得")
    assert actions(row) == ["licence.issued", "licence.suspended", "licence.resumed", "licence.revoked"]
    event = audit.history(row).last()
    assert event.actor == clerk.username and event.data["before"] == {"status": "valid"}
    assert verify_licence(row).genuine  # status changes are not tampering


def test_resuming_after_the_validity_ended_gives_expired(licence):
    services.suspend_licence(licence, actor=None, reason="检查")
    with freeze_time("2029-02-01"):
        assert services.resume_licence(licence, actor=None, reason="整改").status == "expired"


def test_renewal_continues_from_the_old_end_date(licence):
    with freeze_time("2028-12-20"):
        new = services.renew_licence(licence, actor=None, reason="申请延续")
    assert (new.valid_from, new.valid_until) == (dt.date(2029, 1, 10), dt.date(2034, 1, 9))
    assert (new.version, new.origin, new.issue_date) == (2, "renewal", dt.date(2028, 12, 20))
    assert Licence.objects.get(pk=licence.pk).status == "superseded"


def test_renewing_a_lapsed_licence_starts_today(licence):
    with freeze_time("2029-03-01"):
        assert services.expire_due_licences() == 1
        new = services.renew_licence(licence, actor=None, reason="补办延续")
    assert (new.valid_from, new.valid_until, new.status) == (dt.date(2029, 3, 1), dt.date(2034, 2, 28), "valid")


def test_a_licence_without_end_date_cannot_be_renewed():
    kind = licence_type(code="11100000000013338W004", name="结婚证", validity_years=None, fields=[])
    licence = services.issue_licence(licence_type=kind, issuer=DepartmentFactory(), holder=citizen(), data={})
    with pytest.raises(Conflict, match="该证照长期有效，无需延续"):
        services.renew_licence(licence, actor=None, reason="延续")


def test_the_nightly_task_expires_and_reminds_once(licence):
    with freeze_time("2028-12-20"):  # 21 days before 2029-01-09
        assert daily_expiry.call_local() == {"expired": 0, "reminded": 1}
        assert daily_expiry.call_local() == {"expired": 0, "reminded": 0}
    note = Notification.objects.get(user=licence.holder_person.user)
    assert note.subject == "证照即将到期"
    assert note.body == f"您的食品经营许可证（编号 {licence.number}）将于 2029-01-09 到期，请及时办理延续。"
    with freeze_time("2029-01-09"):
        assert daily_expiry.call_local() == {"expired": 0, "reminded": 0}  # valid through its last day
    with freeze_time("2029-01-10"):
        assert daily_expiry.call_local() == {"expired": 1, "reminded": 0}
    row = Licence.objects.get(pk=licence.pk)
    assert (row.status, row.status_reason) == ("expired", "有效期已届满")
    assert actions(row)[-1] == "licence.expired" and verify_licence(row).genuine


def test_before_the_sweep_an_outdated_licence_already_shows_expired(licence):
    with freeze_time("2029-02-01"):
        assert services.effective_status(licence) == "expired"
        assert verify_licence(licence).status == "expired"


def test_organisation_licences_remind_the_organisation_agents():
    agent = citizen("王经办")
    company = organisation(agent=agent)
    kind = licence_type(code="11100000000013338W005", name="道路运输经营许可证", holder_kind=HolderKind.ORGANISATION)
    with freeze_time("2020-06-01"):
        services.issue_licence(licence_type=kind, issuer=DepartmentFactory(), holder=company, data=food_data())
    with freeze_time("2025-05-15"):
        assert services.remind_expiring_licences() == 1
    assert Notification.objects.filter(user=agent.user, subject="证照即将到期").count() == 1
