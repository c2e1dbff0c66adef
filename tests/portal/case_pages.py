"""Shared data and helpers of the case page tests (the fixtures are in this folder's conftest)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.core.ids import make_citizen_id
from yiwang.identity.models import NaturalPerson, StaffRole, User

PASSWORD = "Yiwang-portal-2026"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
FOOD_LICENCE = "11100000000013338W001"

FORM_SCHEMA = [
    {"name": "shop_name", "label": "店铺名称", "type": "text", "required": True, "max_length": 30},
    {"name": "scope", "label": "经营范围说明", "type": "textarea"},
    {"name": "staff", "label": "从业人数", "type": "number", "min": 1, "max": 500, "required": True},
    {"name": "opening", "label": "开业日期", "type": "date"},
    {
        "name": "category",
        "label": "经营类别",
        "type": "select",
        "required": True,
        "options": [{"value": "retail", "label": "食品销售"}, {"value": "catering", "label": "餐饮服务"}],
    },
    {"name": "promise", "label": "本人承诺所填内容真实", "type": "checkbox", "required": True},
    {"name": "id_number", "label": "负责人身份证号", "type": "id_number", "required": True},
    {"name": "uscc", "label": "统一社会信用代码", "type": "uscc"},
    {"name": "phone", "label": "联系电话", "type": "phone", "required": True},
]

_seq = itertools.count(1)


def make_person(name: str, *, with_user: bool = True) -> NaturalPerson:
    n = next(_seq)
    user = None
    if with_user:
        user = User.objects.create_user(
            username=f"portal-citizen{n}", password=PASSWORD, display_name=name, phone=f"137{n:08d}"
        )
    return NaturalPerson.objects.create(
        name=name,
        id_number=make_citizen_id("441602", dt.date(1985, 3, 1) + dt.timedelta(days=n), n % 1000),
        phone=f"137{n:08d}",
        user=user,
    )


def make_staff(name: str, department, *roles: str) -> User:
    user = User.objects.create_user(username=f"portal-staff{next(_seq)}", password=PASSWORD, display_name=name)
    for role in roles:
        StaffRole.objects.create(user=user, department=department, role=role)
    return user


def upload(data: bytes = PDF, name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def form_post(world, **overrides) -> dict:
    """A complete application as the browser posts it (form fields carry the f_ prefix)."""
    data = {
        "f_shop_name": "张三小吃店",
        "f_scope": "热食类食品制售",
        "f_staff": "3",
        "f_opening": "2026-03-01",
        "f_category": "catering",
        "f_promise": "on",
        "f_id_number": world.citizen.id_number,
        "f_uscc": "",
        "f_phone": "13800138000",
        "applicant_org": "",
        "delivery_method": "electronic",
        "delivery_address": "",
        "idempotency_key": "key-1",
        "action": "submit",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def with_files(world, data: dict, *, which=(0, 1)) -> dict:
    for i in which:
        data[f"material_{world.materials[i].pk}"] = upload()
    return data
