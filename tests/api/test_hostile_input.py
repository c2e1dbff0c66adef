"""Hostile input to the API and the portal: JSON nested a thousand levels deep, huge bodies, overlong
fields. Every one is a 4xx with ``{code, detail}`` naming the field, never a 500."""

from __future__ import annotations

import base64
import json

import pytest
from cases.http import Api

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
