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
