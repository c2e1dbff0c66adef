"""Signing times are shown in local time (Asia/Shanghai) next to the local 颁发日期: a licence signed at
17:30 UTC on 1 March is signed at 01:30 on 2 March in China, on every page, PDF and API field."""

from __future__ import annotations

import pytest
from catalog.factories import DepartmentFactory
from catalog.pdftools import page_text
from django.urls import reverse
from freezegun import freeze_time

from licences.factories import citizen, food_data, licence_type
from yiwang.core import keys
from yiwang.licences import services
from yiwang.licences.files import envelope_bytes, licence_pdf
from yiwang.licences.verification import make_qr_token

pytestmark = pytest.mark.django_db

LOCAL = "2026-03-02 01:30:00"


@pytest.fixture
def licence():
    issuer, holder = DepartmentFactory(name="河源市市场监督管理局"), citizen("张三")
    with freeze_time("2026-02-20 09:00:00+08:00"):
        keys.active_key(issuer.credit_code)
    with freeze_time("2026-03-01 17:30:00+00:00"):  # just before midnight UTC: the next day in China
        return services.issue_licence(licence_type=licence_type(), issuer=issuer, holder=holder, data=food_data())


def test_the_licence_page_shows_the_local_signing_time_beside_the_local_issue_date(client, licence):
    assert licence.issue_date.isoformat() == "2026-03-02"
    client.force_login(licence.holder_person.user)
    page = client.get(reverse("portal:licence_detail", args=[licence.identifier])).content.decode()
    assert "签发时间" in page and LOCAL in page
    assert "2026-03-01 17:30" not in page


def test_the_verification_pages_show_the_local_signing_time(client, licence):
    token = make_qr_token(licence)
    scanned = client.get(reverse("portal:licence_check", args=[licence.identifier]) + f"?t={token}").content.decode()
    assert LOCAL in scanned
    uploaded = client.post(
        reverse("portal:licence_verify"),
        {"file": _file(envelope_bytes(licence), "licence.ylic")},
    ).content.decode()
    assert "核验通过" in uploaded and LOCAL in uploaded and "17:30" not in uploaded


def test_the_pdf_prints_the_local_signing_time(licence):
    text = page_text(licence_pdf(licence))
    assert "签发时间：2026-03-0201:30:00（北京时间）" in text
    assert "UTC" not in text and "颁发日期2026-03-02" in text


def test_the_api_gives_the_signing_time_with_the_local_offset(client, licence):
    client.force_login(licence.holder_person.user)
    body = client.get(f"/api/licences/{licence.identifier}/").json()
    assert body["signed_at"] == "2026-03-02T01:30:00+08:00"
    verdict = client.get(f"/api/licences/verify/{licence.identifier}/?t={make_qr_token(licence)}").json()
    assert verdict["facts"]["签发时间"] == LOCAL
    assert verdict["checked_at"].endswith("+08:00")


def _file(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")
