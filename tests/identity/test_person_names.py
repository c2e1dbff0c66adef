"""A person's name has the characters a Chinese or foreign name has; markup is refused with a clear
message at registration, at the window and over the API, and is printed escaped wherever it appears."""

from __future__ import annotations

import datetime as dt

import pytest

from yiwang.core.errors import InvalidInput
from yiwang.core.ids import make_citizen_id
from yiwang.identity import services
from yiwang.identity.models import NaturalPerson, User

pytestmark = pytest.mark.django_db

ID_1 = make_citizen_id("441602", dt.date(1991, 3, 4), 321)
PASSWORD = "Heyuan-2026-window"
SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "name",
    [
        "张伟",
        "买买提·艾力",
        "欧阳 娜娜",
        "李〇",
        "𪚥𠀀",
        "Jean-Luc O'Brien",
        "J. R. R. Tolkien",
        "Müller",
        "Иванов",
        "ཀུན་བཟང",
    ],
)
def test_names_of_people_are_accepted(name):
    person = services.register_person(name=name, id_number=ID_1)
    assert person.name == name


@pytest.mark.parametrize("name", [SCRIPT, "张三1", "a&b", "张\u200b三", 'O"Brien'])
def test_markup_digits_and_invisible_characters_are_refused(name):
    with pytest.raises(InvalidInput) as info:
        services.register_person(name=name, id_number=ID_1)
    assert info.value.field == "name"
    assert "姓名含有不允许的字符" in info.value.message and "汉字、字母、间隔号“·”" in info.value.message
    assert not NaturalPerson.objects.exists()


def test_portal_registration_refuses_a_script_name_and_shows_it_escaped(client):
    response = client.post(
        "/register/",
        {"name": SCRIPT, "id_number": ID_1, "phone": "13800138000", "password": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "姓名含有不允许的字符：“&lt;”、“&gt;”" in body
    assert SCRIPT not in body and "&lt;script&gt;" in body  # the typed value comes back escaped
    assert not User.objects.exists()


def test_an_organisation_name_with_markup_is_printed_escaped_in_pages_and_pdfs(client):
    """Organisation names may hold brackets and digits, so the output must be escaped: the licence PDF
    (reportlab reads mini-HTML) prints the name as typed, the wallet page escapes it."""
    from catalog.factories import DepartmentFactory
    from catalog.pdftools import page_text
    from licences.factories import citizen, food_data, licence_type

    from yiwang.licences import services as licence_services
    from yiwang.licences.files import licence_pdf

    holder = citizen("张三")
    org = services.register_legal_person(name="河源<b>好味</b>餐饮&<font size=40>", uscc="91441602MA4W8K3N96")
    services.authorize_agent(person=holder, organisation=org)
    licence = licence_services.issue_licence(
        licence_type=licence_type(holder_kind="any"),
        issuer=DepartmentFactory(name="河源市市场监督管理局"),
        holder=org,
        data=food_data(),
    )
    assert "河源<b>好味</b>餐饮&<fontsize=40>" in page_text(licence_pdf(licence))
    client.force_login(holder.user)
    page = client.get(f"/licences/{licence.identifier}/").content.decode()
    assert "<b>好味</b>" not in page and "河源&lt;b&gt;好味&lt;/b&gt;餐饮&amp;&lt;font size=40&gt;" in page
