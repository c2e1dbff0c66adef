"""Uploaded materials and generated receipts are never served by their storage path under /media/,
not even with DEBUG=1: only the download views that check who asks hand them out, and no page or API
answer links to /media/."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.urls import clear_url_caches, reverse

import yiwang.urls


@pytest.fixture
def debug_urls(settings):
    """DEBUG=1 as `make run` has it, with the URLconf built again under it (urls.py reads DEBUG once)."""
    settings.DEBUG = True
    importlib.reload(yiwang.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(yiwang.urls)
    clear_url_caches()


@pytest.mark.django_db
def test_stored_files_are_not_served_under_media_with_debug(client, settings, world, accepted, debug_urls):
    case = accepted()
    stored = [m.file.name for m in case.materials.exclude(file="")] + [d.file.name for d in case.documents.all()]
    assert len(stored) >= 3  # two uploads and the 受理回执
    for name in stored:
        assert (Path(settings.MEDIA_ROOT) / name).is_file()
        assert client.get(f"/media/{name}").status_code == 404

    client.force_login(world.citizen_user)  # not even for the applicant himself
    for name in stored:
        assert client.get(f"/media/{name}").status_code == 404

    # what he downloads goes through the checked views, and nothing he is shown points at /media/
    material = case.materials.exclude(file="").first()
    download = client.get(reverse("portal:case_material", args=[case.number, material.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == material.file.open("rb").read()
    page = client.get(reverse("portal:case_detail", args=[case.number]))
    assert page.status_code == 200 and "/media/" not in page.content.decode()
    answer = client.get(reverse("cases-detail", args=[case.number]))
    assert answer.status_code == 200 and "/media/" not in answer.content.decode()

    client.force_login(world.stranger_user)
    assert client.get(reverse("portal:case_material", args=[case.number, material.pk])).status_code in {403, 404}
