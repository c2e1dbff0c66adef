"""The API's contract as a client reads it from /api/schema/: pages are documented as page objects,
arrays as arrays, every operation names its 4xx answers (``{code, detail}``), an anonymous call is a
401 with its challenge, and a replayed Idempotency-Key gets the first case with 200."""

from __future__ import annotations

import pytest
from cases.http import Api

PAGINATED = ["/api/cases/", "/api/cases/queue/", "/api/cases/acceptance-queue/", "/api/supervision/cases/"]


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _ok_body(schema: dict, path: str, method: str = "get") -> dict:
    content = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    return _resolve(schema, content["schema"])


def test_paginated_lists_are_documented_as_page_objects(schema):
    for path in PAGINATED:
        body = _ok_body(schema, path)
        assert body["type"] == "object", path
        assert {"count", "next", "previous", "results"} <= set(body["properties"]), path
        assert body["properties"]["results"]["type"] == "array", path
        params = {p["name"] for p in schema["paths"][path]["get"].get("parameters", [])}
        assert {"page", "page_size"} <= params, path


def test_licence_types_are_documented_as_the_array_they_are(schema, client):
    body = _ok_body(schema, "/api/licences/types/")
    assert body["type"] == "array"
    assert {"code", "name", "fields"} <= set(_resolve(schema, body["items"])["properties"])
    assert isinstance(client.get("/api/licences/types/").json(), list)


def test_every_operation_documents_its_error_answers(schema):
    error = schema["components"]["schemas"]["Error"]
    assert {"code", "detail"} <= set(error["required"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = set(operation["responses"])
            assert {"400", "404"} <= codes, (method, path)
            if method != "get":
                assert "413" in codes, (method, path)
            if operation.get("security") and {} not in operation["security"]:
                assert {"401", "403"} <= codes, (method, path)
    assert {"401", "403"} <= set(schema["paths"]["/api/cases/"]["get"]["responses"])
    assert "429" in schema["paths"]["/api/progress/"]["get"]["responses"]  # the throttled query


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_call_is_a_401_with_a_challenge(live_server):
    api = Api(live_server.url)
    for path in ["/api/cases/", "/api/cases/queue/", "/api/cases/drafts/", "/api/licences/"]:
        reply = api.get(path)
        assert reply.status == 401, path
        assert reply.headers["WWW-Authenticate"].startswith("Basic"), path
        assert reply.json["code"] == "not_authenticated" and reply.json["detail"], path


@pytest.mark.django_db(transaction=True)
def test_every_404_has_a_code_and_a_detail(live_server, world):
    api = Api(live_server.url, world.citizen_user)
    for path in [
        "/api/cases/NO-SUCH-CASE/",
        "/api/cases/drafts/999999/",
        "/api/cases/?page=999",
        "/api/items/NO-SUCH-ITEM/",
        "/api/licences/NO-SUCH-LICENCE/",
        "/api/licences/keys/ffffffffffffffff.pem",
        "/api/items/NO-SUCH-ITEM/versions/",
        "/api/items/NO-SUCH-ITEM/versions/1/",
        "/api/items/NO-SUCH-ITEM/guide.pdf",
        "/api/cases/NO-SUCH-CASE/documents/1/",
        "/api/cases/NO-SUCH-CASE/materials/1/",
        "/api/no-such-endpoint/",
    ]:
        reply = api.get(path)
        assert reply.status == 404, (path, reply.status)
        assert reply.json["code"] == "not_found" and reply.json["detail"], (path, reply.body[:200])
