"""Security headers on every kind of answer (portal page, admin page, API over real HTTP), HSTS in
production behind TLS, and `yiwang check --deploy` clean under the production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from cases.http import Api

# what docs/operations.md asks of a production site (.ci/production sets the same, less TLS)
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "YIWANG_KEK": secrets.token_hex(16),
    "ALLOWED_HOSTS": "zwfw.example.gov.cn,testserver",
    "CSRF_TRUSTED_ORIGINS": "https://zwfw.example.gov.cn",
    "YIWANG_PUBLIC_URL": "https://zwfw.example.gov.cn",
}
# .ci/production: plain HTTP on the loopback (docs/operations.md, "Without TLS")
WITHOUT_TLS = {"SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "TLS_PROXY": "0"}


def directives(policy: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in policy.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def assert_protected(headers) -> None:
    headers = {k.lower(): v for k, v in headers.items()}
    policy = directives(headers["content-security-policy"])
    for name in ("script-src", "style-src"):
        assert policy[name] == ["'self'"], policy  # no 'unsafe-inline', no other origin
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] in {"same-origin", "strict-origin-when-cross-origin", "no-referrer"}
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.django_db
def test_portal_page_has_the_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert_protected(response.headers)
    # the page itself carries nothing the policy would refuse
    html = response.content.decode()
    assert "<style" not in html and " style=" not in html and " onclick=" not in html
    assert all('src="' in tag for tag in html.split("<script")[1:])


@pytest.mark.django_db
def test_admin_page_has_the_security_headers(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert_protected(response.headers)


@pytest.mark.django_db(transaction=True)
def test_api_answer_and_docs_have_the_security_headers(live_server):
    api = Api(live_server.url)
    answer = api.get("/api/items/")
    assert answer.status == 200
    assert_protected(answer.headers)

    docs = api.get("/api/docs/")
    assert docs.status == 200 and b"<style" not in docs.body
    assert_protected(docs.headers)
    # the Swagger UI's start script is a file of its own, not inline
    script = api.get("/api/docs/?script=")
    assert script.status == 200 and b"SwaggerUIBundle(" in script.body
    assert script.headers["Content-Type"].startswith("application/javascript")


def yiwang(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "TLS_", "DATABASE_URL"))}
    environment |= {"DJANGO_SETTINGS_MODULE": "yiwang.settings", "YIWANG_DATA_DIR": str(tmp_path)} | env
    return subprocess.run(
        [sys.executable, "-m", "yiwang.cli", *args], env=environment, capture_output=True, text=True, cwd=tmp_path
    )


def test_check_deploy_is_clean_under_the_production_settings(tmp_path):
    result = yiwang(tmp_path, "check", "--deploy", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "System check identified no issues" in output and "WARNING" not in output, output

    # without TLS in front, only the three choices the operator made knowingly are named
    plain = yiwang(tmp_path, "check", "--deploy", **PRODUCTION, **WITHOUT_TLS)
    named = {line.split(")")[0].split("(")[-1] for line in plain.stderr.splitlines() if "(security." in line}
    assert named == {"security.W008", "security.W012", "security.W016"}, plain.stderr


SHOW_HSTS = (
    "import django; django.setup(); from django.test import Client; "
    "r = Client().get('/api/no-such-endpoint/', secure=True); print(r.headers.get('Strict-Transport-Security'))"
)


def hsts(tmp_path, **env: str) -> str:
    result = yiwang(tmp_path, "shell", "--no-imports", "-c", SHOW_HSTS, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_hsts_is_on_by_default_in_production_over_tls(tmp_path):
    assert hsts(tmp_path, **PRODUCTION) == "max-age=31536000; includeSubDomains; preload"
    assert hsts(tmp_path, **PRODUCTION, SECURE_HSTS_INCLUDE_SUBDOMAINS="0") == "max-age=31536000"
    assert hsts(tmp_path, DEBUG="1") == "None"
