"""Every field of every Yiwang model is named in Chinese: the admin (zh-hans) shows these names as
labels and column headers, and Django's automatic English name ("Created at") is not a label."""

from __future__ import annotations

import re

from django.apps import apps

CJK = re.compile(r"[\u4e00-\u9fff]")


def english_field_names() -> list[str]:
    bad = []
    for model in apps.get_models():
        if not model.__module__.startswith("yiwang"):
            continue
        for field in model._meta.get_fields():
            if (field.auto_created and not field.concrete) or field.name == "id":
                continue  # reverse relations have no name of their own; Django names the automatic id "ID"
            name = str(getattr(field, "verbose_name", ""))
            if not CJK.search(name):
                bad.append(f"{model._meta.label}.{field.name}: {name}")
    return bad


def test_every_field_has_a_chinese_verbose_name():
    assert english_field_names() == []


def test_every_model_has_a_chinese_verbose_name():
    bad = [
        model._meta.label
        for model in apps.get_models()
        if model.__module__.startswith("yiwang")
        and not (CJK.search(str(model._meta.verbose_name)) and CJK.search(str(model._meta.verbose_name_plural)))
    ]
    assert bad == []
