"""Chinese is the source language; English is available from the header's language switch."""

import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

import yiwang
from yiwang.core.errors import InvalidInput
from yiwang.core.ids import validate_citizen_id

pytestmark = pytest.mark.django_db


def test_pages_are_chinese_by_default(client):
    page = client.get("/login/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "政务服务平台" in page and "首页" in page and ">English<" in page


def test_switching_to_english_in_the_header(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"}, follow=True)
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "Government services" in page
    assert ">Home<" in page and "Log in" in page and "Skip to main content" in page
    assert "Citizens log in with their mobile number or ID number" in page
    assert ">中文<" in page
    home = client.get("/").content.decode()
    assert "For individuals" in home and "For organisations" in home and "Search services" in home
    register = client.get("/register/").content.decode()
    assert "Create a personal account" in register and "Citizen ID number" in register

    back = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"}, follow=True)
    assert "个人可使用手机号码或身份证号登录" in back.content.decode()


def test_business_errors_follow_the_language(client):
    with translation.override("en"), pytest.raises(InvalidInput) as exc:
        validate_citizen_id("12345")
    assert exc.value.message == "The citizen ID number must have 18 characters; it has 5."
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post("/register/", {"name": "", "id_number": "", "phone": "", "password": ""})
    page = response.content.decode()
    assert "Please correct the following" in page
    assert "Please enter the citizen ID number." in page


def test_compiled_catalogue_is_committed_and_current():
    """Machines without gettext use the committed .mo: it must hold every translation of the .po."""
    locale = Path(yiwang.__file__).parent / "locale" / "en" / "LC_MESSAGES"
    with (locale / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog
    po = (locale / "django.po").read_text()
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', po, re.M)
    assert len(pairs) > 200
    for msgid, msgstr in pairs:
        assert compiled.get(msgid.replace('\\"', '"')) == msgstr.replace('\\"', '"'), msgid
