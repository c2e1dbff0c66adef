"""The REST API, over real HTTP (live server) where it matters, and in-process for the rest."""

import base64
import json
import urllib.error
import urllib.request

import pytest
from catalog.factories import DepartmentFactory

from licences.factories import citizen, food_data, licence_type, staff
from yiwang.core import keys
from yiwang.licences import services
from yiwang.licences.files import envelope_bytes
from yiwang.licences.models import Licence


def http(method: str, url: str, *, body: bytes | None = None, headers: dict | None = None, user=None):
    headers = dict(headers or {})
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user.username}:Yiwang-2025".encode()).decode()
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def multipart(field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = "----yiwang-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def licence(db):
    return services.issue_licence(
        licence_type=licence_type(), issuer=DepartmentFactory(name="河源市市场监督管理局"), holder=citizen("张三"),
        data=food_data(),
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_key_listing_is_public_and_keeps_rotated_keys(live_server, licence):
    keys.rotate(licence.issuer_code)
    status, _h, body = http("GET", f"{live_server.url}/api/licences/keys/?owner={licence.issuer_code}")
    assert status == 200
    listed = json.loads(body)
    assert [k["key_id"] for k in listed][0] == licence.key_id and len(listed) == 2
    old, new = listed
    assert old["owner"] == licence.issuer_code and old["owner_name"] == "河源市市场监督管理局"
    assert old["valid_until"] is not None and not old["active"] and new["active"] and new["valid_until"] is None
    assert old["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert old["signer_id"] == "1234567812345678"
    assert not any("private" in k for key in listed for k in key)
    status, headers, pem = http("GET", f"{live_server.url}/api/licences/keys/{licence.key_id}.pem")
    assert status == 200 and pem.decode() == old["public_key_pem"]
    status, _h, body = http("GET", f"{live_server.url}/api/licences/keys/ffffffffffffffff.pem")
    assert status == 404 and json.loads(body)["detail"] == "签名密钥 ffffffffffffffff 不存在。"


@pytest.mark.django_db(transaction=True)
def test_anyone_verifies_a_file_or_a_pdf_over_http(live_server, licence):
    body, ctype = multipart("file", "licence.ylic", envelope_bytes(licence))
    status, _h, answer = http(
        "POST", f"{live_server.url}/api/licences/verify/", body=body, headers={"Content-Type": ctype}
    )
    verdict = json.loads(answer)
    assert status == 200 and verdict["genuine"] and verdict["status"] == "valid"
    assert verdict["identifier"] == licence.identifier
    # the .ylic JSON may also be posted as the body
    status, _h, answer = http(
        "POST", f"{live_server.url}/api/licences/verify/", body=envelope_bytes(licence),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert json.loads(answer)["genuine"]
    forged = envelope_bytes(licence).replace(b'"signature": "ME', b'"signature": "MF')
    body, ctype = multipart("file", "licence.ylic", forged)
    status, _h, answer = http(
        "POST", f"{live_server.url}/api/licences/verify/", body=body, headers={"Content-Type": ctype}
    )
    assert status == 200 and not json.loads(answer)["genuine"]
    status, _h, answer = http("POST", f"{live_server.url}/api/licences/verify/", body=b"{}",
                              headers={"Content-Type": "application/json"})  # fmt: skip
    assert status == 400 and json.loads(answer) == {
        "code": "invalid", "detail": "请上传证照文件（.ylic 或证照 PDF）。", "field": "file"
    }  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_wallet_and_a_licence_over_http_respect_access(live_server, licence):
    holder = licence.holder_person.user
    status, _h, body = http("GET", f"{live_server.url}/api/licences/", user=holder)
    wallet = json.loads(body)
    assert status == 200 and [w["identifier"] for w in wallet] == [licence.identifier]
    assert wallet[0]["holder_code"] == licence.holder_code and wallet[0]["data"]["经营者名称"] == "张三小吃店"
    other = citizen("李四").user
    status, _h, body = http("GET", f"{live_server.url}/api/licences/{licence.identifier}/", user=other)
    assert status == 404 and json.loads(body)["detail"] == "未找到该证照，或您无权查看。"
    status, headers, body = http("GET", f"{live_server.url}/api/licences/{licence.identifier}/")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
    status, headers, pdf = http("GET", f"{live_server.url}/api/licences/{licence.identifier}/pdf/", user=holder)
    assert status == 200 and headers["Content-Type"] == "application/pdf" and pdf.startswith(b"%PDF")


@pytest.mark.django_db(transaction=True)
def test_a_qr_token_from_the_api_opens_the_public_check(live_server, licence):
    holder = licence.holder_person.user
    status, _h, body = http(
        "POST", f"{live_server.url}/api/licences/{licence.identifier}/qr/", user=holder,
        body=json.dumps({"show": ["holder"]}).encode(), headers={"Content-Type": "application/json"},
    )  # fmt: skip
    qr = json.loads(body)
    assert status == 200 and qr["expires_in"] == 300 and qr["png"].startswith("data:image/png;base64,")
    status, _h, body = http("GET", f"{live_server.url}/api/licences/verify/{licence.identifier}/?t={qr['token']}")
    verdict = json.loads(body)
    assert verdict["genuine"] and verdict["facts"]["持证主体"] == "张三"
    assert verdict["facts"]["持证主体代码"] == licence.holder_masked


@pytest.mark.django_db
def test_issuer_actions_over_the_api(client, licence):
    url = f"/api/licences/{licence.identifier}/"
    client.force_login(licence.holder_person.user)
    response = client.post(url + "revoke/", {"reason": "x"}, content_type="application/json")
    assert response.status_code == 403
    client.force_login(staff(licence.issuer))
    response = client.post(url + "suspend/", {"reason": ""}, content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "reason"
    response = client.post(url + "suspend/", {"reason": "抽检不合格"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    response = client.post(url + "renew/", {"reason": "延续"}, content_type="application/json")
    assert response.status_code == 409 and response.json()["detail"] == "证照当前状态为“已暂扣”，不能延续。"
    client.post(url + "resume/", {"reason": "整改完毕"}, content_type="application/json")
    response = client.post(url + "renew/", {"reason": "到期延续"}, content_type="application/json")
    renewed = response.json()
    assert response.status_code == 200 and renewed["version"] == "002"
    assert renewed["valid_until"] > Licence.objects.get(pk=licence.pk).valid_until.isoformat()
    response = client.post(
        url + "change/", {"reason": "改", "data": {"address": "新址"}}, content_type="application/json"
    )
    assert response.status_code == 409  # the old version is superseded
    change = {"reason": "地址变更", "data": {"address": "新址"}}
    response = client.post(f"/api/licences/{renewed['identifier']}/change/", change, content_type="application/json")
    assert response.status_code == 200 and response.json()["data"]["经营场所"] == "新址"


@pytest.mark.django_db
def test_the_licence_types_and_the_schema_are_published(client, licence):
    types = client.get("/api/licences/types/").json()
    assert types[0]["code"] == "11100000000013338W001" and types[0]["fields"][0]["label"] == "经营者名称"
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/licences/verify/" in schema.content
