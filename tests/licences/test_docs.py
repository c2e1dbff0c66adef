"""docs/licences.md promises that a licence verifies offline with OpenSSL 3 alone: run its commands
exactly as written, on a .ylic file and on the PDF, against the live server's key listing."""

import base64
import re
import subprocess
from pathlib import Path

import pytest
from catalog.factories import DepartmentFactory

from licences.factories import citizen, food_data, licence_type
from yiwang.licences import services
from yiwang.licences.files import envelope_bytes, licence_pdf

DOC = Path(__file__).resolve().parents[2] / "docs" / "licences.md"


def documented_commands() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- offline-verification:[^>]*-->\s*```sh\n(.*?)```", text, re.S)
    assert match, "the offline verification block is missing from docs/licences.md"
    return match.group(1)


def run_documented(tmp_path: Path, licence_file: Path, base_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", documented_commands()],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "LICENCE": str(licence_file), "YIWANG": base_url},
        capture_output=True,
        text=True,
    )


@pytest.fixture
def licence(db):
    return services.issue_licence(
        licence_type=licence_type(), issuer=DepartmentFactory(), holder=citizen("张三"), data=food_data()
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["ylic", "pdf"])
def test_the_documented_openssl_steps_verify_a_licence(tmp_path, live_server, licence, kind):
    path = tmp_path / f"licence.{kind}"
    path.write_bytes(envelope_bytes(licence) if kind == "ylic" else licence_pdf(licence))
    result = run_documented(tmp_path, path, live_server.url)
    assert result.returncode == 0, result.stderr
    assert "Verified OK" in result.stdout
    assert licence.number in result.stdout and '"issuer_code":"' + licence.issuer_code in result.stdout


@pytest.mark.django_db(transaction=True)
def test_the_documented_openssl_steps_reject_a_forged_file(tmp_path, live_server, licence):
    """The holder's name changed in the payload: OpenSSL refuses it."""
    genuine = envelope_bytes(licence)
    payload = licence.payload.encode()
    forged = payload.replace("张三".encode(), "李四".encode())
    path = tmp_path / "licence.ylic"
    path.write_bytes(genuine.replace(base64.b64encode(payload), base64.b64encode(forged)))
    result = run_documented(tmp_path, path, live_server.url)
    assert result.returncode != 0
    assert "Verification failure" in result.stdout + result.stderr
