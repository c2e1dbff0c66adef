"""The catalog API over real HTTP (live server, urllib), plus the schema and docs pages."""

import base64
import json
import urllib.error
import urllib.request

import pytest

from catalog.factories import DepartmentFactory, published_version
from catalog.pdftools import embeds_cjk_font, info_string
from yiwang.catalog import services
from yiwang.catalog.models import ItemVersion, OnlineDepth, ServiceObject, Theme
from yiwang.identity.models import StaffRole, User

PASSWORD = "Yiwang@2026"


def call(server, path, *, method="GET", body=None, user=None, accept="application/json"):
    """(status, headers, parsed JSON or raw bytes) of one HTTP request to the live server."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method)
    request.add_header("Accept", accept)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if user:
        token = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, headers, raw = exc.code, exc.headers, exc.read()
    if headers.get("Content-Type", "").startswith("application/json"):
        return status, headers, json.loads(raw)
    return status, headers, raw


@pytest.fixture
def catalog(db):
    market = DepartmentFactory(name="河源市市场监督管理局")
    food = published_version(
        department=market,
        name="食品经营许可",
        keywords="餐饮 小吃店",
        service_object=ServiceObject.ORGANISATION,
        theme=Theme.FOOD,
        materials=[{"name": "营业执照", "source": "licence", "source_ref": "11100000000013338W002"}],
    )
    permit = published_version(
        name="居住证签注", online_depth=OnlineDepth.FULLY_ONLINE, max_visits=0, theme=Theme.HOUSEHOLD
    )
    for i in range(3):
        published_version(name=f"公共场所卫生许可{i}", keywords="卫生")
    manager = User.objects.create_user("catalog", password=PASSWORD)
    StaffRole.objects.create(user=manager, department=market, role="catalog_manager")
    User.objects.create_user("citizen", password=PASSWORD)
    return {"food": food, "permit": permit}


@pytest.mark.django_db(transaction=True)
def test_list_search_filters_and_pagination(live_server, catalog):
    status, _, body = call(live_server, "/api/items/?q=%E9%A3%9F%E5%93%81")  # q=食品
    assert status == 200 and body["count"] == 1
    item = body["results"][0]
    assert item["name"] == "食品经营许可" and item["code"] == catalog["food"].item.code
    assert item["department"]["name"] == "河源市市场监督管理局"
    assert item["item_type_label"] == "行政许可" and item["service_object"] == "organisation"
    assert item["guide_url"] == live_server.url + f"/items/{item['code']}/"
    assert item["guide_pdf_url"].endswith("/guide.pdf")

    status, _, body = call(live_server, "/api/items/?zero_visit=true")
    assert [r["name"] for r in body["results"]] == ["居住证签注"]
    status, _, body = call(live_server, "/api/items/?page_size=2")
    assert body["count"] == 5 and len(body["results"]) == 2 and "page=2" in body["next"]
    status, _, body = call(live_server, "/api/items/?page_size=2&page=3")
    assert len(body["results"]) == 1 and body["next"] is None


@pytest.mark.django_db(transaction=True)
def test_bad_filters_and_unknown_codes_are_4xx_in_chinese(live_server, catalog):
    status, _, body = call(live_server, "/api/items/?online_depth=9")
    assert status == 400
    assert body["code"] == "invalid" and body["field"] == "online_depth"
    assert body["detail"].startswith("「网上办理深度」的取值「9」无效")
    for path in ["/api/items/NOSUCH/", "/api/items/NOSUCH/versions/", "/api/items/NOSUCH/guide.pdf"]:
        status, _, body = call(live_server, path)
        assert status == 404, path
        assert body == {"code": "not_found", "detail": "未找到事项编码为「NOSUCH」的政务服务事项。"}
    code = catalog["food"].item.code
    status, _, body = call(live_server, f"/api/items/{code}/versions/9/")
    assert status == 404 and body["detail"] == f"事项「{code}」没有第9版。"


@pytest.mark.django_db(transaction=True)
def test_detail_has_the_current_version_with_materials_stages_and_form(live_server, catalog):
    code = catalog["food"].item.code
    status, _, body = call(live_server, f"/api/items/{code}/")
    assert status == 200
    assert body["code"] == code and len(body["base_code"]) == 12
    version = body["current_version"]
    assert version["version"] == 1 and version["status"] == "published"
    assert version["legal_basis"] == "《中华人民共和国行政许可法》"
    assert version["materials"] == [
        {
            "order": 1,
            "name": "营业执照",
            "required": True,
            "copies": 1,
            "kind": "original",
            "kind_label": "原件",
            "formats": "pdf,jpg,png",
            "basis": "",
            "note": "",
            "source": "licence",
            "source_label": "电子证照",
            "source_ref": "11100000000013338W002",
        }
    ]
    assert [s["kind"] for s in version["stages"]] == ["handle", "review", "decide"]
    assert [f["type"] for f in version["form_schema"]] == ["text", "id_number", "phone", "textarea"]


@pytest.mark.django_db(transaction=True)
def test_versions_list_and_detail(live_server, catalog):
    food = catalog["food"]
    v2 = services.publish(services.new_draft_from(food))
    services.update_draft(services.new_draft_from(v2), name="食品经营许可（修订中）")
    code = food.item.code
    status, _, body = call(live_server, f"/api/items/{code}/versions/")
    assert status == 200 and [v["number"] for v in body] == [2, 1]  # no draft for the public
    status, _, body = call(live_server, f"/api/items/{code}/versions/", user="catalog")
    assert [(v["number"], v["status"]) for v in body] == [(3, "draft"), (2, "published"), (1, "published")]
    status, _, body = call(live_server, f"/api/items/{code}/versions/1/")
    assert status == 200 and body["version"] == 1 and body["name"] == "食品经营许可"
    assert call(live_server, f"/api/items/{code}/versions/3/")[0] == 404


@pytest.mark.django_db(transaction=True)
def test_guide_pdf(live_server, catalog):
    code = catalog["food"].item.code
    status, headers, data = call(live_server, f"/api/items/{code}/guide.pdf", accept="application/pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert embeds_cjk_font(data) and info_string(data, "Title") == "食品经营许可 办事指南"
    status, _, data = call(live_server, f"/api/items/{code}/guide.pdf?version=1", accept="*/*")
    assert status == 200 and data.startswith(b"%PDF-")
    status, headers, body = call(live_server, "/api/items/NOSUCH/guide.pdf", accept="application/pdf")
    assert status == 404 and body["code"] == "not_found"


@pytest.mark.django_db(transaction=True)
def test_a_published_version_cannot_be_changed_through_the_api(live_server, catalog):
    food = catalog["food"]
    path = f"/api/items/{food.item.code}/versions/1/"
    change = {"changes": {"name": "改过的名字"}}
    assert call(live_server, path, method="PATCH", body=change)[0] == 401  # anonymous: log in first
    status, _, body = call(live_server, path, method="PATCH", body=change, user="citizen")
    assert status == 403 and body["detail"] == "只有事项管理员可以维护事项目录。"
    status, _, body = call(live_server, path, method="PATCH", body=change, user="catalog")
    assert status == 409 and body["code"] == "conflict"
    assert body["detail"] == "食品经营许可 第1版的状态为「已发布」，不可修改；如需调整，请基于该版本新建草稿版本。"
    for method in ("PUT", "DELETE"):
        assert call(live_server, path, method=method, body=change, user="catalog")[0] == 405
    food.refresh_from_db()
    assert food.name == "食品经营许可"


@pytest.mark.django_db(transaction=True)
def test_a_manager_drafts_changes_and_publishes_through_the_api(live_server, catalog):
    code = catalog["food"].item.code
    land = DepartmentFactory(name="河源市自然资源局")
    status, _, draft = call(live_server, f"/api/items/{code}/versions/", method="POST", user="catalog")
    assert status == 201 and draft["version"] == 2 and draft["status"] == "draft"
    assert draft["materials"][0]["name"] == "营业执照"  # copied from the published version

    path = f"/api/items/{code}/versions/2/"
    status, _, body = call(live_server, path, method="PATCH", user="catalog", body={"changes": {"promised_days": 30}})
    assert status == 400 and body["errors"]["promised_days"].startswith("承诺办结时限（30个工作日）")
    stages = [
        {"name": "受理", "kind": "handle", "role": "handler", "time_share": 50},
        {"name": "审批", "kind": "decide", "role": "approver", "department": land.credit_code, "time_share": 50},
    ]
    status, _, body = call(
        live_server, path, method="PATCH", user="catalog", body={"changes": {"promised_days": 5}, "stages": stages}
    )
    assert status == 200 and body["promised_days"] == 5
    assert [s["department"] for s in body["stages"]] == [None, land.credit_code]
    bad = [{**stages[0], "department": "11441600MB0000000X"}]
    status, _, body = call(live_server, path, method="PATCH", user="catalog", body={"stages": bad})
    assert status == 400 and body["detail"] == "第1个环节的办理部门 11441600MB0000000X 不存在。"

    status, _, body = call(
        live_server, f"/api/items/{code}/versions/2/publish/", method="POST", user="catalog", body={}
    )
    assert status == 200 and body["status"] == "published"
    status, _, body = call(live_server, f"/api/items/{code}/")
    assert body["current_version"]["version"] == 2 and body["current_version"]["promised_days"] == 5
    assert ItemVersion.objects.get(item__code=code, number=1).status == "published"  # kept for its cases


@pytest.mark.django_db(transaction=True)
def test_schema_and_docs_document_the_catalog(live_server, catalog):
    status, _, schema = call(live_server, "/api/schema/?format=json", accept="application/json")
    assert status == 200
    paths = schema["paths"]
    for path in [
        "/api/items/",
        "/api/items/{code}/",
        "/api/items/{code}/versions/",
        "/api/items/{code}/versions/{number}/",
        "/api/items/{code}/versions/{number}/publish/",
        "/api/items/{code}/guide.pdf",
    ]:
        assert path in paths, path
    assert {p["name"] for p in paths["/api/items/"]["get"]["parameters"]} >= {
        "q",
        "service_object",
        "theme",
        "department",
        "region",
        "item_type",
        "handling",
        "online_depth",
        "zero_visit",
        "page",
        "page_size",
    }
    assert "application/pdf" in paths["/api/items/{code}/guide.pdf"]["get"]["responses"]["200"]["content"]
    status, _, html = call(live_server, "/api/docs/", accept="text/html")
    assert status == 200 and b"swagger" in html.lower() and b"cdn" not in html.lower()
