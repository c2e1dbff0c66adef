"""Test data for the licence library: licence types, holders with accounts, staff of departments.

Other apps' tests may use them: ``from licences.factories import licence_type, citizen``.
"""

from __future__ import annotations

import datetime as dt
import itertools

from catalog.factories import DepartmentFactory

from yiwang.core.ids import make_citizen_id, make_uscc
from yiwang.identity.models import AgentAuthorization, Department, LegalPerson, NaturalPerson, StaffRole, User
from yiwang.licences.models import HolderKind, LicenceType

_seq = itertools.count(1)

FOOD_FIELDS = [
    {"name": "shop_name", "label": "经营者名称", "required": True},
    {"name": "address", "label": "经营场所", "required": True},
    {"name": "category", "label": "经营项目"},
]


def licence_type(
    code: str = "11100000000013338W001",
    name: str = "食品经营许可证",
    holder_kind: str = HolderKind.PERSON,
    validity_years: int | None = 5,
    fields: list | None = None,
    prefix: str = "JY",
) -> LicenceType:
    obj, _created = LicenceType.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "holder_kind": holder_kind,
            "validity_years": validity_years,
            "fields": [dict(f) for f in (FOOD_FIELDS if fields is None else fields)],
            "number_prefix": prefix,
            "issuer_kind": "市场监督管理部门",
        },
    )
    return obj


def citizen(name: str = "张三", *, password: str = "Yiwang-2025") -> NaturalPerson:
    """A natural person with a login (phone number + password)."""
    n = next(_seq)
    user = User.objects.create_user(username=f"citizen{n}", password=password, phone=f"138{n:08d}", display_name=name)
    return NaturalPerson.objects.create(
        name=name,
        id_number=make_citizen_id("441602", dt.date(1980, 1, 1) + dt.timedelta(days=n), n % 1000),
        phone=user.phone,
        user=user,
    )


def organisation(name: str = "河源市示例餐饮有限公司", *, agent: NaturalPerson | None = None) -> LegalPerson:
    n = next(_seq)
    org = LegalPerson.objects.create(name=f"{name}{n}", uscc=make_uscc("91441602", f"{n:08d}"))
    if agent is not None:
        AgentAuthorization.objects.create(person=agent, organisation=org)
    return org


def staff(department: Department | None = None, role: str = StaffRole.Role.APPROVER, name: str = "李审批") -> User:
    department = department or DepartmentFactory()
    n = next(_seq)
    user = User.objects.create_user(username=f"staff{n}", password="Yiwang-2025", display_name=name)
    StaffRole.objects.create(user=user, department=department, role=role)
    return user


def food_data(**overrides) -> dict:
    return {"shop_name": "张三小吃店", "address": "河源市源城区越王大道1号", "category": "热食类食品制售", **overrides}
