"""Static files: every `{% static %}` of every template is a file the finders know, the vendored htmx is
the release its README names, and a production set-up (collectstatic, hashed manifest) serves the pages."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

import yiwang

PACKAGE = Path(yiwang.__file__).parent
VENDOR = PACKAGE / "static" / "vendor"
HTMX_VERSION = "2.0.11"
STATIC_TAG = re.compile(r"""{%\s*static\s+(['"])(?P<path>[^'"]+)\1""")


def static_references() -> dict[str, list[str]]:
    """Every literal `{% static '…' %}` path, with the templates that use it."""
    found: dict[str, list[str]] = {}
    for template in sorted(PACKAGE.rglob("templates/**/*.html")):
        for match in STATIC_TAG.finditer(template.read_text(encoding="utf-8")):
            found.setdefault(match["path"], []).append(str(template.relative_to(PACKAGE)))
    return found


def test_every_static_reference_in_every_template_is_found():
    references = static_references()
    assert "vendor/htmx.min.js" in references and "favicon.svg" in references  # the scan sees base.html
    missing = {path: used_in for path, used_in in references.items() if finders.find(path) is None}
    assert missing == {}, f"static files that no finder finds: {missing}"


def test_vendored_htmx_is_the_release_the_readme_names():
    script = (VENDOR / "htmx.min.js").read_bytes()
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    assert f'version:"{HTMX_VERSION}"'.encode() in script
    assert f"htmx.org@{HTMX_VERSION}" in readme
    assert hashlib.sha256(script).hexdigest() in readme
    assert "Zero-Clause BSD" in (VENDOR / "htmx.LICENSE").read_text(encoding="utf-8")


@pytest.mark.django_db
def test_pages_render_with_the_collected_manifest_of_production(settings, tmp_path):
    """DEBUG=0 hashes the names (manifest): a template naming a file that collectstatic did not collect
    answers 500 "Missing staticfiles manifest entry" on every page."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    call_command("collectstatic", interactive=False, verbosity=0)

    client = Client()  # a new client loads whitenoise over the collected files
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    htmx = re.search(r'src="(/static/vendor/htmx\.min\.[0-9a-f]{12}\.js)"', html)
    assert htmx, "the page does not load the hashed htmx"
    served = client.get(htmx[1])
    assert served.status_code == 200
    assert f'version:"{HTMX_VERSION}"'.encode() in b"".join(served.streaming_content)
    icon = re.search(r'rel="icon" href="(/static/favicon\.[0-9a-f]{12}\.svg)"', html)
    assert icon and client.get(icon[1]).status_code == 200


@pytest.mark.django_db
def test_favicon_ico_at_the_root_is_the_vendored_icon(client):
    """Browsers ask for /favicon.ico on pages without an icon link (the admin, PDFs): never a 404."""
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain and response.redirect_chain[-1][0].endswith("favicon.ico")
