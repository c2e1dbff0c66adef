"""The application form fills in what the platform knows: the account's person (name, ID number shown
masked, phone, address) and the organisation the applicant acts for; the real ID number is filled in on
submission; a draft keeps what was typed."""

from __future__ import annotations

import re

import pytest
from case_pages import FORM_SCHEMA, form_post, with_files
from django.urls import reverse

from yiwang.cases.models import Case, Status
from yiwang.catalog.models import ItemVersion

PREFILL = {"id_number": "person.id_number", "phone": "person.phone", "uscc": "org.uscc"}
EXTRA = [
    {"name": "applicant_name", "label": "申请人姓名", "type": "text", "prefill": "person.name"},
    {"name": "home", "label": "联系地址", "type": "text", "prefill": "person.address"},
    {"name": "legal_rep", "label": "法定代表人", "type": "text", "prefill": "org.legal_representative"},
]


@pytest.fixture
def prefilled(world):
    schema = [{**f, "prefill": PREFILL[f["name"]]} if f["name"] in PREFILL else dict(f) for f in FORM_SCHEMA]
    ItemVersion.objects.filter(pk=world.version.pk).update(form_schema=schema + EXTRA)
    world.citizen.address = "河源市源城区永和西路1号"
    world.citizen.save()
    world.company.legal_representative = "王五"
    world.company.save()
    return world


def _input(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert found, name
    return found.group(0)


def _value(page: str, name: str) -> str | None:
    found = re.search(r'value="([^"]*)"', _input(page, name))
    return found.group(1) if found else None


def test_a_new_application_is_filled_from_the_account(client, prefilled):
    w = prefilled
    client.force_login(w.user)
    page = client.get(reverse("portal:apply", args=[w.item.code])).content.decode()
    assert _value(page, "f_phone") == w.citizen.phone
    assert _value(page, "f_applicant_name") == "张三"
    assert _value(page, "f_home") == "河源市源城区永和西路1号"
    # the ID number: masked and read-only, the full number nowhere in the page
    assert _value(page, "f_id_number") == w.citizen.masked_id and "readonly" in _input(page, "f_id_number")
    assert w.citizen.id_number not in page
    # applying as oneself: no organisation data
    assert _value(page, "f_uscc") is None and _value(page, "f_legal_rep") is None
    assert f'href="?org={w.company.uscc}"' in page  # refill for the organisation


def test_acting_for_an_organisation_fills_its_data(client, prefilled):
    w = prefilled
    client.force_login(w.user)
    page = client.get(reverse("portal:apply", args=[w.item.code]), {"org": w.company.uscc}).content.decode()
    assert _value(page, "f_uscc") == w.company.uscc and _value(page, "f_legal_rep") == "王五"
    assert "checked" in _input(page, 'applicant_org" value="' + w.company.uscc)
    assert _value(page, "f_phone") == w.citizen.phone  # the agent's own contact data
    # an organisation the person may not act for prefills nothing of it
    other = client.get(reverse("portal:apply", args=[w.item.code]), {"org": "91440000MA00000000"})
    assert _value(other.content.decode(), "f_uscc") is None


def test_submitting_the_masked_id_number_stores_the_real_one(client, prefilled):
    w = prefilled
    client.force_login(w.user)
    data = with_files(w, form_post(w, f_id_number=w.citizen.masked_id, f_applicant_name="张三"))
    response = client.post(reverse("portal:apply", args=[w.item.code]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get()
    assert case.status == Status.SUBMITTED and case.form_data["id_number"] == w.citizen.id_number


def test_a_draft_keeps_what_was_typed_and_only_empty_fields_are_filled(client, prefilled):
    w = prefilled
    client.force_login(w.user)
    data = form_post(w, f_id_number=w.citizen.masked_id, f_phone="13900000001", f_home="", action="save")
    response = client.post(reverse("portal:apply", args=[w.item.code]), data)
    draft = Case.objects.get(status=Status.DRAFT)
    assert draft.form_data["id_number"] == w.citizen.masked_id  # never the full number in a draft
    page = client.get(response["Location"]).content.decode()
    assert _value(page, "f_phone") == "13900000001"  # typed, not overwritten
    assert _value(page, "f_home") == "河源市源城区永和西路1号"  # empty: filled
    assert w.citizen.id_number not in page
    # submitting the draft as it stands gives the real number
    submit = with_files(w, form_post(w, f_id_number=w.citizen.masked_id, idempotency_key="key-2"))
    response = client.post(reverse("portal:draft", args=[draft.pk]), submit)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED and draft.form_data["id_number"] == w.citizen.id_number


def test_the_window_form_is_filled_from_the_registered_applicant(client, prefilled):
    w = prefilled
    client.force_login(w.clerk)
    client.post(reverse("portal:window_desk"), {"id_number": w.citizen.id_number})
    url = reverse("portal:window_apply", args=[w.item.code])
    page = client.get(url, {"org": w.company.uscc}).content.decode()
    assert _value(page, "f_applicant_name") == "张三" and _value(page, "f_phone") == w.citizen.phone
    assert _value(page, "f_uscc") == w.company.uscc and _value(page, "f_legal_rep") == "王五"
    # masked on the window pages as on the desk; the case gets the real number
    assert _value(page, "f_id_number") == w.citizen.masked_id and w.citizen.id_number not in page
    data = {
        **{k: v for k, v in form_post(w, f_id_number=w.citizen.masked_id).items() if k.startswith("f_")},
        "delivery_method": "window",
        "idempotency_key": "window-prefill",
        **with_files(w, {}),
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Case.objects.get().form_data["id_number"] == w.citizen.id_number


def test_the_api_gives_the_prefill_values_of_the_current_user(client, prefilled, django_assert_max_num_queries):
    w = prefilled
    client.force_login(w.user)
    with django_assert_max_num_queries(10):
        response = client.get("/api/cases/prefill/", {"item": w.item.code, "applicant_org": w.company.uscc})
    assert response.status_code == 200
    got = {row["field"]: row for row in response.json()}
    assert got["phone"] == {"field": "phone", "source": "person.phone", "value": w.citizen.phone, "masked": False}
    assert got["id_number"]["value"] == w.citizen.masked_id and got["id_number"]["masked"] is True
    assert got["uscc"]["value"] == w.company.uscc and got["legal_rep"]["value"] == "王五"
    assert w.citizen.id_number not in response.content.decode()
    # as oneself: no organisation values; an organisation one may not act for is refused, naming the field
    alone = {row["field"] for row in client.get("/api/cases/prefill/", {"item": w.item.code}).json()}
    assert alone == {"applicant_name", "id_number", "phone", "home"}
    refused = client.get("/api/cases/prefill/", {"item": w.item.code, "applicant_org": "91440000MA00000000"})
    assert 400 <= refused.status_code < 500
    assert client.get("/api/cases/prefill/", {"item": "nope"}).status_code == 404
    assert "/api/cases/prefill/" in client.get("/api/schema/").content.decode()
