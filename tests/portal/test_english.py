"""With English chosen in the header, every main page is English: the data here are ASCII, so any CJK
character left in a page comes from a template or the code, not from the data."""

from __future__ import annotations

import html
import re

import pytest
from case_pages import FOOD_LICENCE, PDF, make_person, make_staff, upload
from catalog.factories import DepartmentFactory, RegionFactory, published_version
from django.urls import reverse
from licences.factories import licence_type

from yiwang.cases import services
from yiwang.catalog.models import Handling, OnlineDepth
from yiwang.identity.models import Region, StaffRole
from yiwang.licences import services as licence_services

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
HIDDEN = re.compile(r"<(script|style|template)\b.*?</\1>|<!--.*?-->", re.S | re.I)
TAG = re.compile(r"<[^>]+>")
# The header's switch back to Chinese names the language in its own script, as every language menu does.
SWITCH_BACK = re.compile(r'<button class="link-button" name="language" value="zh-hans">中文</button>')

FORM = [
    {"name": "shop_name", "label": "Shop name", "type": "text", "required": True, "max_length": 30},
    {"name": "staff", "label": "Number of staff", "type": "number", "min": 1, "max": 500, "required": True},
    {"name": "opening", "label": "Opening date", "type": "date"},
    {
        "name": "category",
        "label": "Category",
        "type": "select",
        "required": True,
        "options": [{"value": "retail", "label": "Food retail"}, {"value": "catering", "label": "Catering"}],
    },
    {"name": "promise", "label": "I confirm the entries are true", "type": "checkbox", "required": True},
    {"name": "id_number", "label": "ID number of the manager", "type": "id_number", "required": True},
    {"name": "phone", "label": "Phone", "type": "phone", "required": True},
]
STAGES = [
    {"name": "Handling", "kind": "handle", "role": "handler", "time_share": 40},
    {"name": "Review", "kind": "review", "role": "reviewer", "time_share": 30},
    {"name": "Decision", "kind": "decide", "role": "approver", "time_share": 30},
]
ENGLISH_ELEMENTS = {
    "keywords": "food shop",
    "legal_basis": "Food Safety Law, article 35",
    "conditions": "The premises meet the food safety standards.",
    "location": "Heyuan Service Centre, window 1",
    "hours": "Monday to Friday 8:30-12:00, 14:30-17:30",
}
FIELDS = [
    {"name": "shop_name", "label": "Operator", "required": True},
    {"name": "address", "label": "Premises", "required": True},
]


def visible_text(page: str) -> str:
    page = SWITCH_BACK.sub("", page)
    return html.unescape(TAG.sub(" ", HIDDEN.sub(" ", page)))


def assert_english(response, what: str, status: int = 200) -> str:
    assert response.status_code == status, (what, response.status_code)
    page = response.content.decode()
    assert '<html lang="en">' in page, what
    text = " ".join(visible_text(page).split())
    found = sorted({m.group() for m in CJK.finditer(text)})
    assert not found, f"{what}: {''.join(found)} in …{text[max(0, CJK.search(text).start() - 80) :][:200]}"
    return text


@pytest.fixture
def english_world(db, calendar):
    Region.objects.filter(code="441600").delete()
    RegionFactory(code="441600", name="Heyuan")
    market = DepartmentFactory(name="Heyuan Market Regulation Bureau")
    civil = DepartmentFactory(name="Heyuan Civil Affairs Bureau")
    licence_type(code=FOOD_LICENCE, name="Food Business Licence", fields=FIELDS)
    from yiwang.licences.models import LicenceType

    LicenceType.objects.filter(code=FOOD_LICENCE).update(issuer_kind="Market regulation")
    version = published_version(
        department=market,
        name="Food business licence",
        service_object="both",
        form_schema=[dict(f) for f in FORM],
        fee="50.00",
        materials=[
            {"name": "Application letter", "formats": "pdf"},
            {"name": "Proof of premises", "formats": "pdf,jpg,png"},
            {"name": "Previous food licence", "source": "licence", "source_ref": FOOD_LICENCE, "required": False},
        ],
        stages=[dict(s) for s in STAGES],
        **ENGLISH_ELEMENTS,
    )
    immediate = published_version(
        department=civil,
        name="Marriage record certificate",
        handling=Handling.IMMEDIATE,
        promised_days=0,
        online_depth=OnlineDepth.DOWNLOAD,
        materials=[{"name": "Copy of the ID card", "formats": "pdf,jpg,png"}],
        stages=[dict(s) for s in STAGES],
        form_schema=[dict(f) for f in FORM[-2:]],
        **ENGLISH_ELEMENTS,
    )
    citizen = make_person("Zhang San")
    licence = licence_services.issue_licence(
        licence_type=FOOD_LICENCE,
        issuer=market,
        holder=citizen,
        data={"shop_name": "Zhang's Snacks", "address": "1 Yuewang Road"},
    )
    handler = make_staff("Handler Wang", market, StaffRole.Role.HANDLER)
    clerk = make_staff("Clerk Li", civil, StaffRole.Role.WINDOW_CLERK)
    form_data = {
        "shop_name": "Zhang's Snacks",
        "staff": 3,
        "opening": "2026-03-01",
        "category": "catering",
        "promise": True,
        "id_number": citizen.id_number,
        "phone": "13800138000",
    }
    materials = list(version.materials.order_by("order"))
    case = services.submit_case(
        citizen.user,
        item=version.item,
        form_data=form_data,
        files={materials[0].pk: upload(PDF, "letter.pdf"), materials[1].pk: upload(PDF, "premises.pdf")},
    )
    services.accept_case(handler, case)
    corrected = services.submit_case(
        citizen.user,
        item=version.item,
        form_data=form_data,
        files={materials[0].pk: upload(PDF, "letter.pdf"), materials[1].pk: upload(PDF, "premises.pdf")},
    )
    services.request_correction(
        handler, corrected, items=[{"material": materials[1].pk, "problem": "The photo is blurred."}]
    )
    return locals()


def english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})


@pytest.mark.django_db
def test_every_main_page_is_english(client, english_world):
    w = english_world
    item = w["version"].item
    case = w["case"]
    english(client)

    assert_english(client.get(reverse("portal:home")), "home")
    assert_english(client.get(reverse("portal:search")), "search")
    assert_english(client.get(reverse("portal:search"), {"q": "food"}), "search results")
    assert_english(client.get(reverse("portal:item_guide", args=[item.code])), "guide")
    assert_english(client.get(reverse("portal:item_guide", args=[w["immediate"].item.code])), "immediate guide")
    assert_english(client.get(reverse("portal:login")), "login")
    assert_english(client.get(reverse("portal:register")), "register")
    assert_english(client.get(reverse("portal:progress")), "progress form")
    last4 = w["citizen"].id_number[-4:]
    assert_english(client.post(reverse("portal:progress"), {"number": case.number, "id_last4": last4}), "progress")
    assert_english(client.get(reverse("portal:licence_verify")), "verification page")
    assert_english(client.get("/no-such-page/"), "404", status=404)

    # the citizen
    client.force_login(w["citizen"].user)
    assert_english(client.get(reverse("portal:apply", args=[item.code])), "apply form")
    assert_english(client.get(reverse("portal:my_cases")), "my cases")
    page = assert_english(client.get(reverse("portal:case_detail", args=[case.number])), "case page")
    # the handler's note was recorded in Chinese; the applicant reads it in English
    assert "Accepted; due date" in page
    page = assert_english(client.get(reverse("portal:case_detail", args=[w["corrected"].number])), "case to correct")
    assert "Proof of premises: The photo is blurred." in page
    assert_english(client.get(reverse("portal:my_licences")), "my licences")
    assert_english(client.get(reverse("portal:licence_detail", args=[w["licence"].identifier])), "licence page")
    assert_english(client.get(reverse("portal:workbench")), "403", status=403)

    # the department's handler
    client.force_login(w["handler"])
    assert_english(client.get(reverse("portal:workbench")), "workbench")
    page = assert_english(client.get(reverse("portal:staff_case", args=[case.number])), "staff case page")
    assert "Handling" in page and "Application letter" in page
    assert_english(client.get(reverse("portal:staff_case", args=[w["corrected"].number])), "staff case, correction")

    # the window clerk
    client.force_login(w["clerk"])
    assert_english(client.get(reverse("portal:window_desk")), "window desk")
    session = client.session
    session["window_person"] = w["citizen"].pk
    session.save()
    page = assert_english(client.get(reverse("portal:window_desk"), {"q": "Marriage"}), "window desk, applicant")
    assert "Zhang San" in page and "Marriage record certificate" in page
    assert_english(client.get(reverse("portal:window_apply", args=[w["immediate"].item.code])), "window intake")


def test_the_check_sees_chinese_text_but_not_markup():
    page = '<p title="标题">Case <script>var a = "办件";</script><b>办件</b></p><!-- 注释 -->'
    assert CJK.findall(visible_text(page)) == ["办", "件"]
    assert not CJK.search(visible_text(SWITCH_BACK.pattern.replace("\\", "")))
