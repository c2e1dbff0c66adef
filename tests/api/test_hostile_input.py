"""Hostile input to the API and the portal: JSON nested a thousand levels deep, huge bodies, overlong
fields. Every one is a 4xx with ``{code, detail}`` naming the field, never a 500."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cases.http import Api

from yiwang.core.ids import make_citizen_id

DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def _deep_refused(reply, field: str | None = None) -> dict:
    assert reply.status == 400, reply.body[:300]
    body = reply.json
    assert body["code"] == "too_deep"
    assert "嵌套过深" in body["detail"]
    if field:
        assert body["field"] == field
    return body


@pytest.mark.django_db(transaction=True)
def test_deep_json_to_licence_verification_is_a_400(live_server):
    api = Api(live_server.url)
    for raw in (DEEP, DEEP_OBJECT):
        reply = api.post("/api/licences/verify/", raw=raw.encode(), headers={"Content-Type": "application/json"})
        assert "请求正文" in _deep_refused(reply)["detail"]
    # an uploaded .ylic file nested as deep, and one whose signed payload is
    reply = api.post("/api/licences/verify/", files={"file": ("证照.ylic", DEEP.encode())})
    assert "证照文件" in _deep_refused(reply, "file")["detail"]
    envelope = {
        "format": "yiwang-licence-file/1",
        "payload": base64.b64encode(DEEP_OBJECT.encode()).decode(),
        "signature": "AA==",
    }
    reply = api.post("/api/licences/verify/", files={"file": ("证照.ylic", json.dumps(envelope).encode())})
    _deep_refused(reply, "file")


@pytest.mark.django_db
def test_deep_json_file_on_the_portal_verification_page_is_a_400(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/licences/verify/", {"file": SimpleUploadedFile("证照.ylic", DEEP.encode())})
    assert response.status_code == 400
    assert "证照文件的 JSON 嵌套过深" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_deep_json_to_drafts_is_a_400_naming_the_form(live_server, world):
    api = Api(live_server.url, world.citizen_user)
    headers = {"Content-Type": "application/json"}
    reply = api.post("/api/cases/drafts/", raw=('{"item": "x", "form_data": ' + DEEP + "}").encode(), headers=headers)
    _deep_refused(reply)
    # form_data as a JSON string, in a JSON body and in a multipart form
    reply = api.post("/api/cases/drafts/", json_body={"item": world.item.code, "form_data": DEEP_OBJECT})
    assert "申请表" in _deep_refused(reply, "form_data")["detail"]
    reply = api.post("/api/cases/drafts/", fields={"item": world.item.code, "form_data": DEEP})
    assert "申请表" in _deep_refused(reply, "form_data")["detail"]
    # a well-formed draft still saves
    reply = api.post("/api/cases/drafts/", json_body={"item": world.item.code, "form_data": world.form})
    assert reply.status == 201, reply.body[:300]


@pytest.mark.django_db(transaction=True)
def test_malformed_json_body_is_a_400_with_a_code(live_server, world):
    api = Api(live_server.url, world.citizen_user)
    reply = api.post("/api/cases/drafts/", raw=b'{"item": ', headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json["code"] == "invalid_json"
    assert "请求正文不是有效的 JSON" in reply.json["detail"]


TWENTY_MB = 20 * 1024 * 1024


def _too_large(reply) -> None:
    assert reply.status == 413, (reply.status, reply.body[:300])
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json["code"] == "too_large"
    assert "11 MB" in reply.json["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_twenty_megabyte_body_answers_json_413_with_the_limit(live_server, world):
    api = Api(live_server.url, world.citizen_user)
    big = json.dumps({"item": world.item.code, "form_data": {"note": "x" * TWENTY_MB}}).encode()
    json_headers = {"Content-Type": "application/json"}
    _too_large(api.post("/api/cases/drafts/", raw=big, headers=json_headers))
    _too_large(Api(live_server.url).post("/api/licences/verify/", raw=big, headers=json_headers))
    # a form field (not a file) of 20 MB in a multipart body is refused while DRF parses the request
    _too_large(api.post("/api/cases/drafts/", fields={"item": world.item.code, "form_data": "x" * TWENTY_MB}))


@pytest.mark.django_db(transaction=True)
def test_a_twenty_megabyte_form_on_a_portal_page_answers_a_chinese_413_page(live_server):
    body = b"file=" + b"x" * TWENTY_MB
    reply = Api(live_server.url).post(
        "/licences/verify/", raw=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert reply.status == 413
    assert reply.headers["Content-Type"].startswith("text/html")
    page = reply.body.decode()
    assert "提交的内容过大" in page and "11 MB" in page


NINE_MB = 9 * 1024 * 1024
NEW_ID = make_citizen_id("441602", dt.date(1992, 2, 2), 77)


@pytest.mark.django_db(transaction=True)
def test_an_overlong_value_for_a_short_field_is_refused_naming_the_field(live_server, world):
    from yiwang.cases.models import Case

    api = Api(live_server.url, world.citizen_user)
    # 申请人姓名 allows 30 characters: a draft does not keep 9 MB of it
    form = dict(world.form, applicant_name="z" * NINE_MB)
    reply = api.post("/api/cases/drafts/", json_body={"item": world.item.code, "form_data": form})
    assert reply.status == 400
    assert reply.json["field"] == "applicant_name"
    assert "「申请人姓名」不能超过30个字" in reply.json["detail"]
    # nor a number-like field (a phone) or a field of its form given as a structure
    form = dict(world.form, phone="1" * 5000, note={"a": [1, 2]})
    reply = api.post("/api/cases/drafts/", json_body={"item": world.item.code, "form_data": form})
    assert reply.status == 400 and set(reply.json["errors"]) == {"phone", "note"}
    assert not Case.objects.exists()
    # a submission that fails keeps what was typed in a draft, but not the 9 MB
    reply = api.post(
        "/api/cases/",
        fields={"item": world.item.code, "form_data": dict(world.form, note="备" * 300_000)},
        headers={"Idempotency-Key": "long-note"},
    )
    assert reply.status == 400 and "「备注」不能超过2000个字" in reply.json["errors"]["note"]
    assert all(len(str(v)) < 2001 for case in Case.objects.all() for v in case.form_data.values())
    # the case's own fields: the delivery address is 200 characters at most
    reply = api.post("/api/cases/drafts/", json_body={"item": world.item.code, "delivery_address": "h" * NINE_MB})
    assert reply.status == 400 and reply.json["field"] == "delivery_address"
    assert "delivery_address" in reply.json["detail"] and "200" in reply.json["detail"]


@pytest.mark.django_db(transaction=True)
def test_window_registration_bounds_the_new_applicant_fields(live_server, world):
    from cases.conftest import PDF

    from yiwang.identity.services import find_person_by_id_number

    clerk = Api(live_server.url, world.clerk)
    fields = {
        "item": world.item.code,
        "id_number": NEW_ID,
        "name": "w" * NINE_MB,
        "address": "路" * 300,
        "form_data": world.form,
    }
    files = {f"material_{m.pk}": ("a.pdf", PDF) for m in world.materials[:2]}
    reply = clerk.post("/api/window/cases/", fields=fields, files=files)
    assert reply.status == 400
    assert set(reply.json["errors"]) == {"name", "address"}
    assert "字段 name" in reply.json["detail"] and "字段 address" in reply.json["detail"]
    assert find_person_by_id_number(NEW_ID) is None


@pytest.mark.django_db
def test_portal_staff_forms_bound_their_free_text(world):
    from yiwang.portal.forms_cases import CommentForm, ReasonForm

    for form in (ReasonForm(data={"reason": "理" * 3000}), CommentForm(data={"comment": "意" * 3000})):
        assert not form.is_valid()
        assert "2000" in str(form.errors)


@pytest.mark.django_db(transaction=True)
def test_the_window_api_refuses_a_script_as_a_new_applicants_name(live_server, world):
    from cases.conftest import PDF

    fields = {"item": world.item.code, "id_number": NEW_ID, "name": "<script>x</script>"}
    fields["form_data"] = world.form
    files = {f"material_{m.pk}": ("a.pdf", PDF) for m in world.materials[:2]}
    reply = Api(live_server.url, world.clerk).post("/api/window/cases/", fields=fields, files=files)
    assert reply.status == 400 and reply.json["field"] == "name"
    assert "姓名含有不允许的字符" in reply.json["detail"]
