"""Verification: by OpenSSL 3 (an implementation that is not ours) and by the library, with every
kind of tampering named in Chinese."""

import base64
import json
import subprocess

import pytest
from catalog.factories import DepartmentFactory
from django.db import connection
from freezegun import freeze_time

from licences.factories import citizen, food_data, licence_type
from yiwang.core import keys
from yiwang.core.models import SigningKey
from yiwang.core.sm import public_key_pem
from yiwang.licences import services
from yiwang.licences.files import envelope_bytes, licence_pdf
from yiwang.licences.models import Licence
from yiwang.licences.verification import (
    check_scanned,
    embedded_envelope,
    make_qr_token,
    record_problems,
    verify_file,
    verify_licence,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def licence():
    return services.issue_licence(
        licence_type=licence_type(), issuer=DepartmentFactory(), holder=citizen("王五"), data=food_data()
    )


def openssl_verify(tmp_path, ylic: bytes) -> subprocess.CompletedProcess:
    """Take the .ylic apart and ask OpenSSL 3 to verify it against the published key."""
    env = json.loads(ylic)
    key = SigningKey.objects.get(key_id=env["key_id"])
    (tmp_path / "pub.pem").write_text(public_key_pem(bytes(key.public_key)))
    (tmp_path / "payload.json").write_bytes(base64.b64decode(env["payload"]))
    (tmp_path / "signature.der").write_bytes(base64.b64decode(env["signature"]))
    return subprocess.run(
        ["openssl", "dgst", "-sm3", "-verify", "pub.pem", "-sigopt", "distid:1234567812345678",
         "-signature", "signature.der", "payload.json"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip


def test_openssl_verifies_an_issued_licence(tmp_path, licence):
    result = openssl_verify(tmp_path, envelope_bytes(licence))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Verified OK"


def test_openssl_rejects_a_file_whose_payload_was_edited(tmp_path, licence):
    env = json.loads(envelope_bytes(licence))
    payload = base64.b64decode(env["payload"]).replace("王五".encode(), "赵六".encode())
    env["payload"] = base64.b64encode(payload).decode()
    result = openssl_verify(tmp_path, json.dumps(env).encode())
    assert result.returncode != 0
    assert "Verification failure" in result.stdout + result.stderr


def test_an_untouched_licence_and_its_file_are_genuine(licence):
    assert record_problems(licence) == []
    verdict = verify_file(envelope_bytes(licence))
    assert verdict.genuine and verdict.problems == []
    assert verdict.status == "valid" and verdict.status_label == "有效"
    assert verdict.facts["颁发机构"] == licence.issuer_name
    assert verdict.facts["持证主体代码"] == licence.holder_masked  # never the full ID number


def _tampered_file(licence, **edits) -> bytes:
    env = json.loads(envelope_bytes(licence))
    payload = json.loads(base64.b64decode(env["payload"]))
    for key, value in edits.items():
        if key in env and key not in payload:
            env[key] = value
        else:
            payload[key] = value
    env["payload"] = base64.b64encode(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).decode()
    return json.dumps(env).encode()


@pytest.mark.parametrize(
    "field,value",
    [("holder", "赵六"), ("number", "JY0000000000000"), ("valid_until", "2099-12-31"), ("data", {"shop_name": "别家"})],
)
def test_editing_any_field_of_a_file_fails_the_signature(licence, field, value):
    verdict = verify_file(_tampered_file(licence, **{field: value}))
    assert not verdict.genuine
    assert verdict.problems == ["签名验证失败：文件内容与签名不符，文件已被篡改或不是颁发机构签发的。"]


def test_a_file_with_a_foreign_signature_or_key_is_refused(licence):
    env = json.loads(envelope_bytes(licence))
    other = services.issue_licence(
        licence_type=licence.licence_type, issuer=licence.issuer, holder=citizen(), data=food_data()
    )
    env_swapped = {**env, "signature": json.loads(envelope_bytes(other))["signature"]}
    assert verify_file(json.dumps(env_swapped).encode()).problems == [
        "签名验证失败：文件内容与签名不符，文件已被篡改或不是颁发机构签发的。"
    ]
    assert verify_file(json.dumps({**env, "key_id": "0000000000000000"}).encode()).problems == [
        "签名密钥 0000000000000000 不在公布的密钥列表中，无法确认颁发机构。"
    ]
    assert (
        "文件中的证照标识与签名原文不一致。"
        in verify_file(json.dumps({**env, "identifier": other.identifier}).encode()).problems
    )
    assert verify_file(b"not json").problems == ["文件格式不正确：不是本平台的电子证照文件（.ylic）。"]


def test_a_key_of_another_department_cannot_vouch_for_an_issuer(licence):
    """A department signing in another's name: the signature verifies, the key's owner does not match."""
    impostor = DepartmentFactory()
    payload = licence.payload.replace(licence.issuer_code, licence.issuer_code)  # same text, other key
    key = keys.active_key(impostor.credit_code)
    from yiwang.licences.seal import Sealer

    signature = Sealer(key).sign(payload.encode())
    env = json.loads(envelope_bytes(licence))
    env.update(key_id=key.key_id, signature=base64.b64encode(signature).decode())
    verdict = verify_file(json.dumps(env).encode())
    assert not verdict.genuine
    assert f"签名密钥不属于颁发机构 {licence.issuer_name}。" in verdict.problems


ROW_EDITS = [
    ("holder_name", "赵六", "持证主体"),
    ("number", "JY9999999999999", "证照编号"),
    ("issue_date", "2001-01-01", "颁发日期"),
    ("valid_until", "2099-12-31", "有效期截止"),
    ("region_code", "440100", "管辖属地"),
    ("issuer_name", "某某局", "颁发机构"),
    ("name", "伪造许可证", "证照名称"),
]


@pytest.mark.parametrize("field,value,label", ROW_EDITS)
def test_editing_a_sealed_column_of_a_row_is_detected_and_named(licence, field, value, label):
    Licence.objects.filter(pk=licence.pk).update(**{field: value})
    tampered = Licence.objects.get(pk=licence.pk)
    assert record_problems(tampered) == [f"证照库记录的以下内容与签名不一致（已被篡改）：{label}。"]
    # the holder's genuine file no longer matches the library either
    verdict = verify_file(envelope_bytes(licence))
    assert not verdict.genuine
    assert f"证照库记录的以下内容与签名不一致（已被篡改）：{label}。" in verdict.problems


def test_editing_the_licence_data_or_holder_code_of_a_row_is_detected(licence):
    Licence.objects.filter(pk=licence.pk).update(data={**licence.data, "address": "别处"})
    assert record_problems(Licence.objects.get(pk=licence.pk)) == [
        "证照库记录的以下内容与签名不一致（已被篡改）：照面信息·address。"
    ]
    row = Licence.objects.get(pk=licence.pk)
    row.data = licence.data
    row.holder_code = "440101199001011237"
    row.save()
    problems = record_problems(Licence.objects.get(pk=licence.pk))
    assert "证照库记录的以下内容与签名不一致（已被篡改）：持证主体代码。" in problems
    assert "证照库记录的持证主体索引与持证主体代码不一致（已被篡改）。" in problems


def test_editing_the_signature_payload_or_status_of_a_row_is_detected(licence):
    Licence.objects.filter(pk=licence.pk).update(signature=b"\x30\x06\x02\x01\x01\x02\x01\x01")
    assert "证照库记录的签名验证失败，记录已被篡改。" in record_problems(Licence.objects.get(pk=licence.pk))
    Licence.objects.filter(pk=licence.pk).update(signature=licence.signature, payload_hash="0" * 64)
    assert record_problems(Licence.objects.get(pk=licence.pk)) == ["证照库记录的签名原文摘要不符，记录已被篡改。"]
    Licence.objects.filter(pk=licence.pk).update(payload_hash=licence.payload_hash, status="revoked")
    assert record_problems(Licence.objects.get(pk=licence.pk)) == [
        "证照库记录的状态“已撤销”与审计记录“有效”不一致（已被篡改）。"
    ]


def test_a_row_whose_encrypted_column_was_overwritten_is_reported_not_crashed(licence):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE licences_licence SET holder_code = %s WHERE id = %s", ["AAAA" * 20, licence.pk])
    verdict = verify_file(envelope_bytes(licence))
    assert verdict.problems == ["证照库记录已损坏（加密字段无法解密），无法核验。"]


def test_the_status_comes_live_from_the_library(licence):
    ylic = envelope_bytes(licence)
    services.suspend_licence(licence, actor=None, reason="经营场所检查不合格")
    verdict = verify_file(ylic)
    assert verdict.genuine and verdict.status == "suspended"
    assert verdict.notes == ["原因：经营场所检查不合格"]
    services.revoke_licence(licence, actor=None, reason="依法撤销")
    assert verify_file(ylic).status_label == "已撤销"


def test_the_pdf_carries_the_licence_file_and_verifies_on_upload(licence):
    pdf = licence_pdf(licence)
    assert pdf.startswith(b"%PDF")
    assert embedded_envelope(pdf) == envelope_bytes(licence)
    assert verify_file(pdf).genuine
    assert verify_file(b"%PDF-1.4 nothing here").problems == [
        "该 PDF 中没有电子证照文件（.ylic），无法核验；请上传本平台下载的证照 PDF 或 .ylic 文件。"
    ]


def test_a_scanned_code_shows_only_what_the_holder_chose_and_expires(licence):
    bare = check_scanned(licence.identifier, make_qr_token(licence))
    assert bare.genuine and "持证主体" not in bare.facts and "经营者名称" not in bare.facts
    shown = check_scanned(licence.identifier, make_qr_token(licence, {"holder", "data"}))
    assert shown.facts["持证主体"] == "王五" and shown.facts["经营者名称"] == "张三小吃店"
    assert shown.facts["持证主体代码"] == licence.holder_masked
    # a token cannot be moved to another licence nor widened
    token = make_qr_token(licence)
    other = licence.identifier[:-1] + ("1" if licence.identifier.endswith("0") else "0")
    assert check_scanned(other, token).problems == ["二维码无效或已被改动。"]
    assert check_scanned(licence.identifier, token.replace(".-.", ".dh.")).problems == ["二维码无效或已被改动。"]
    with freeze_time("2000-01-01"):
        old = make_qr_token(licence)
    expired = check_scanned(licence.identifier, old)
    assert expired.problems == ["二维码已过期，请持证人刷新后重新出示。"] and not expired.checked


def test_rotating_the_issuer_key_keeps_old_licences_verifiable(tmp_path, licence):
    old_key = licence.key_id
    keys.rotate(licence.issuer_code)
    newer = services.issue_licence(
        licence_type=licence.licence_type, issuer=licence.issuer, holder=citizen(), data=food_data()
    )
    assert newer.key_id != old_key
    for item in (licence, newer):
        assert verify_licence(item).genuine
        assert verify_file(envelope_bytes(item)).genuine
        assert openssl_verify(tmp_path, envelope_bytes(item)).returncode == 0
    retired = SigningKey.objects.get(key_id=old_key)
    assert not retired.active and retired.valid_until is not None
