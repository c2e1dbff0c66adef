"""One rule says whether an item version can be applied for online (``catalog.selectors.can_apply_online``):
the guide's 在线办理 button, the application page, a draft's page, the services and the API agree on it,
also in the cases where they used to decide by themselves and disagreed — an item handled at the window
(online depth Ⅱ), and a draft whose version was superseded or retired."""

from __future__ import annotations

import pytest
from case_pages import PDF, form_post, upload
from django.urls import reverse

from yiwang.cases import services
from yiwang.cases.models import Case, Status
from yiwang.catalog import selectors
from yiwang.catalog import services as catalog_services
from yiwang.core.errors import Conflict


def _text(response) -> str:
    return response.content.decode()


def _apply_button(client, code: str, version: int | None = None) -> bool:
    query = f"?version={version}" if version else ""
    page = _text(client.get(reverse("portal:item_guide", args=[code]) + query))
    return 'id="apply-online"' in page


def test_an_item_handled_at_the_window_is_refused_everywhere(client, world):
    version = world.immediate  # online depth Ⅱ: forms can be downloaded, applications go to the window
    assert not selectors.can_apply_online(version)
    client.force_login(world.user)
    assert not _apply_button(client, version.item.code)
    page = client.get(reverse("portal:apply", args=[version.item.code]))  # used to show the form
    assert page.status_code == 409 and "请到办事窗口办理" in _text(page)
    offers = client.get("/api/cases/offers/", {"item": version.item.code})  # used to answer 200
    assert offers.status_code == 409
    with pytest.raises(Conflict):
        services.submit_case(world.user, item=version.item, form_data={})
    # the online item: every place says yes
    assert selectors.can_apply_online(world.version) and _apply_button(client, world.item.code)
    assert client.get(reverse("portal:apply", args=[world.item.code])).status_code == 200
    assert client.get("/api/cases/offers/", {"item": world.item.code}).status_code == 200


def _draft(client, world) -> Case:
    client.force_login(world.user)
    data = form_post(world, action="save")
    data[f"material_{world.materials[0].pk}"] = upload(PDF, "申请书.pdf")
    client.post(reverse("portal:apply", args=[world.item.code]), data)
    return Case.objects.get(status=Status.DRAFT)


def test_a_draft_of_a_superseded_version_can_no_longer_be_submitted(client, world):
    draft = _draft(client, world)
    newer = catalog_services.new_draft_from(world.version)
    catalog_services.publish(newer)  # in force from today: the draft's version is taken over
    assert not selectors.can_apply_online(world.version) and selectors.can_apply_online(newer)
    assert not _apply_button(client, world.item.code, version=world.version.number)
    assert _apply_button(client, world.item.code)
    page = _text(client.get(reverse("portal:draft", args=[draft.pk])))
    assert 'id="online-closed"' in page and 'value="submit"' not in page and 'value="delete"' in page
    # the service refuses it too (it used to submit it under the old version)
    with pytest.raises(Conflict):
        services.submit_case(world.user, case=draft, form_data={})
    with pytest.raises(Conflict):
        services.save_draft(world.user, case=draft, form_data={})
    response = client.post(reverse("portal:draft", args=[draft.pk]), form_post(world, action="submit"))
    assert response.status_code == 409
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.version == world.version
    # dropping its material and deleting it still work
    services.remove_draft_material(world.user, draft, world.materials[0].pk)
    services.delete_draft(world.user, draft)
    assert not Case.objects.exists()


def test_a_draft_of_a_retired_version_can_no_longer_be_submitted(client, world):
    draft = _draft(client, world)
    catalog_services.retire(world.version)
    assert not selectors.can_apply_online(world.version)
    assert client.get(reverse("portal:apply", args=[world.item.code])).status_code == 409
    with pytest.raises(Conflict):
        services.submit_case(world.user, case=draft, form_data={})
    assert 'id="online-closed"' in _text(client.get(reverse("portal:draft", args=[draft.pk])))
