"""Chinese is the source language; English is available from the header's language switch."""

import gettext
import shutil
import subprocess
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


LOCALE = Path(yiwang.__file__).parent / "locale" / "en" / "LC_MESSAGES"


def _entries(po: str) -> list[dict]:
    """The .po's entries: flags, and each msgid/msgid_plural/msgstr[n] with its continuation lines joined."""
    entries = []
    for block in po.split("\n\n"):
        entry: dict = {"flags": set(), "fields": {}}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"') and key:
                entry["fields"][key] += line[1:-1]
            elif line:
                key, _sep, value = line.partition(" ")
                entry["fields"][key] = value[1:-1]
        if entry["fields"].get("msgid"):
            entries.append(entry)
    return entries


def test_every_string_is_translated_and_reviewed():
    entries = _entries((LOCALE / "django.po").read_text())
    assert len(entries) > 1000
    fuzzy = [e["fields"]["msgid"] for e in entries if "fuzzy" in e["flags"]]
    empty = [
        e["fields"]["msgid"] for e in entries if any(v == "" for k, v in e["fields"].items() if k.startswith("msgstr"))
    ]
    assert not fuzzy, fuzzy
    assert not empty, empty


def test_the_catalogue_checks_see_an_untranslated_entry():
    po = 'msgid "已受理"\nmsgstr ""\n\n#, fuzzy\nmsgid "退回"\nmsgstr "Return"\n'
    entries = _entries(po)
    assert entries[0]["fields"] == {"msgid": "已受理", "msgstr": ""} and "fuzzy" in entries[1]["flags"]


def test_compiled_catalogue_is_committed_and_current(tmp_path):
    """Machines without gettext use the committed .mo: it must hold exactly the translations of the .po."""
    # required, not skipped: without msgfmt this check would silently prove nothing (CI installs gettext)
    assert shutil.which("msgfmt"), "make test needs GNU gettext's msgfmt: apt-get install gettext"
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(LOCALE / "django.po")], check=True)
    with fresh.open("rb") as mo:
        expected = gettext.GNUTranslations(mo)._catalog
    with (LOCALE / "django.mo").open("rb") as mo:
        committed = gettext.GNUTranslations(mo)._catalog
    assert len(expected) > 1000
    assert committed == expected
