"""The Chinese admin with the demo loaded: every registered Yiwang model's list and one change page open
for a superuser, and no label or column header is an English automatic name or a stored code."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib import admin
from django.urls import reverse

from yiwang.identity.models import User

CJK = re.compile(r"[\u4e00-\u9fff]")
TAG = re.compile(r"<[^>]+>")
SELECT = re.compile(r"<select\b.*?</select>", re.S)
LABEL = re.compile(r"<label\b[^>]*>(.*?)</label>", re.S)
HEADER = re.compile(r'<th scope="col"[^>]*>(.*?)</th>', re.S)
ALLOWED = {"", "ID"}  # Django's name of the automatic id


def _texts(pattern: re.Pattern, page: str) -> list[str]:
    # the page's own content, not the navigation sidebar (Django's hidden "Model name" headers)
    page = page[page.index('<div id="content"') :]
    page = SELECT.sub("", page)  # the action menu sits inside a label: its options are not the label
    return [html.unescape(TAG.sub("", m)).strip().rstrip(":：").strip() for m in pattern.findall(page)]


def english(texts: list[str]) -> list[str]:
    """Labels without a Chinese character: an English automatic name ("Created at") or a raw code."""
    return [t for t in texts if t not in ALLOWED and not CJK.search(t)]


def yiwang_models() -> list:
    return sorted((m for m in admin.site._registry if m.__module__.startswith("yiwang")), key=lambda m: m._meta.label)


@pytest.fixture
def admin_client(client, loaded_demo):
    root = User.objects.get(username="admin")
    if not root.is_superuser:
        root = User.objects.create_superuser("root_admin_walk", password="Yiwang@2026")
    client.force_login(root)
    return client


def test_every_admin_page_of_the_demo_speaks_chinese(admin_client):
    problems, walked = [], 0
    for model in yiwang_models():
        opts = model._meta
        listing = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert listing.status_code == 200, opts.label
        page = listing.content.decode()
        problems += [f"{opts.label} 列表: {t}" for t in english(_texts(HEADER, page) + _texts(LABEL, page))]
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        change = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        assert change.status_code == 200, opts.label
        page = change.content.decode()
        problems += [f"{opts.label} #{obj.pk}: {t}" for t in english(_texts(LABEL, page) + _texts(HEADER, page))]
        problems += [f"{opts.label} #{obj.pk}: {w}" for w in ("Created at", "Updated at") if w in page]
        walked += 1
    assert problems == [], "\n".join(problems)
    assert walked >= 15  # the demo fills nearly every table: the walk saw real change pages
