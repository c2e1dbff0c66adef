"""A licence is never signed at a time its issuer's key was not in force: such a licence would fail every
verification (签发时间不在签名密钥的有效期内). The demo used to do it by back-dating decisions after
the issuer's key had been created at load time."""

from __future__ import annotations

import datetime as dt

import pytest
from catalog.factories import DepartmentFactory
from django.utils import timezone
from freezegun import freeze_time

from licences.factories import citizen, food_data, licence_type
from yiwang.core import keys
from yiwang.core.errors import Conflict
from yiwang.licences import services
from yiwang.licences.models import Licence, LicenceCounter
from yiwang.licences.seal import Sealer
from yiwang.licences.verification import record_problems

pytestmark = pytest.mark.django_db


def test_issuing_before_the_issuers_key_existed_is_refused_and_writes_nothing():
    issuer, holder, kind = DepartmentFactory(), citizen(), licence_type()
    key = keys.active_key(issuer.credit_code)
    earlier = timezone.localtime(key.valid_from) - dt.timedelta(days=3)
    with freeze_time(earlier), pytest.raises(Conflict) as refused:
        services.issue_licence(licence_type=kind, issuer=issuer, holder=holder, data=food_data())
    message = refused.value.message
    assert message.startswith(f"签名密钥 {key.key_id} 自 {timezone.localtime(key.valid_from):%Y-%m-%d %H:%M:%S} 起生效")
    assert f"不能以更早的 {earlier:%Y-%m-%d %H:%M:%S} 为签发时间签发证照" in message
    assert not Licence.objects.exists()
    assert not LicenceCounter.objects.filter(last_serial__gt=0).exists()  # not even a serial is used up

    issued = services.issue_licence(licence_type=kind, issuer=issuer, holder=holder, data=food_data())
    assert record_problems(issued) == []


def test_a_key_retired_since_the_sealer_was_made_does_not_sign():
    issuer, holder, kind = DepartmentFactory(), citizen(), licence_type()
    old = keys.active_key(issuer.credit_code)
    sealer = Sealer(old)  # e.g. an import chunk that started before an administrator rotated the key
    with freeze_time(timezone.now() + dt.timedelta(minutes=5)):
        keys.rotate(issuer.credit_code, actor="admin")
    old.refresh_from_db()
    sealer.key = old
    with freeze_time(timezone.now() + dt.timedelta(minutes=10)), pytest.raises(Conflict) as refused:
        services.build_licence(
            licence_type=kind, issuer=issuer, holder=services.Holder.of(holder), data=food_data(), serial=1,
            sealer=sealer, issue_date=timezone.localdate(),
        )  # fmt: skip
    assert f"签名密钥 {old.key_id} 的有效期为 " in refused.value.message
    assert f" 至 {timezone.localtime(old.valid_until):%Y-%m-%d %H:%M:%S}，不能以 " in refused.value.message


def test_issuing_within_the_keys_validity_signs_at_that_time():
    issuer, holder, kind = DepartmentFactory(), citizen(), licence_type()
    with freeze_time("2026-03-02 09:00:00+08:00"):
        keys.active_key(issuer.credit_code)
    with freeze_time("2026-03-10 15:30:00+08:00"):
        licence = services.issue_licence(licence_type=kind, issuer=issuer, holder=holder, data=food_data())
    assert timezone.localtime(licence.signed_at).strftime("%Y-%m-%d %H:%M:%S") == "2026-03-10 15:30:00"
    assert record_problems(licence) == []
