"""factory_boy factories for the catalog (and the regions and departments it needs).

Other apps' tests import them: ``from catalog.factories import published_version`` (``tests/`` is on
``sys.path`` through the root conftest). ``published_version()`` builds a complete item through the
catalog services, so the version is exactly what a catalog manager would have published.
"""

from __future__ import annotations

import itertools

import factory

from yiwang.catalog import services
from yiwang.catalog.models import (
    ExerciseLevel,
    Handling,
    ItemType,
    ItemVersion,
    MaterialRequirement,
    OnlineDepth,
    ServiceItem,
    ServiceObject,
    Stage,
    Theme,
)
from yiwang.core.ids import make_uscc
from yiwang.identity.models import Department, Region

FORM_SCHEMA = [
    {"name": "applicant_name", "label": "申请人姓名", "type": "text", "required": True, "max_length": 30},
    {"name": "id_number", "label": "身份证号", "type": "id_number", "required": True},
    {"name": "phone", "label": "联系电话", "type": "phone", "required": True},
    {"name": "note", "label": "备注", "type": "textarea"},
]


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "441600"
    name = "河源市"
    level = Region.Level.CITY
    parent = None


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("credit_code",)

    name = factory.Sequence(lambda n: f"河源市测试局{n}")
    credit_code = factory.Sequence(lambda n: make_uscc("11441600", f"{n:08d}"))
    region = factory.SubFactory(RegionFactory)


class ServiceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceItem

    department = factory.SubFactory(DepartmentFactory)
    region = factory.SelfAttribute("department.region")
    base_code = factory.Sequence(lambda n: f"0117{n:08d}")
    code = factory.LazyAttribute(lambda o: f"{o.department.credit_code}{ExerciseLevel.CITY}{o.base_code}")


class ItemVersionFactory(factory.django.DjangoModelFactory):
    """A draft version with every element filled in (no materials or stages)."""

    class Meta:
        model = ItemVersion

    item = factory.SubFactory(ServiceItemFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = ItemVersion.Status.DRAFT
    name = factory.Sequence(lambda n: f"测试事项{n}")
    item_type = ItemType.LICENSING
    exercise_level = ExerciseLevel.CITY
    service_object = ServiceObject.PERSON
    theme = Theme.MARKET
    keywords = "测试"
    legal_basis = "《中华人民共和国行政许可法》"
    conditions = "符合法定条件。"
    handling = Handling.PROMISED
    statutory_days = 20
    promised_days = 10
    online_depth = OnlineDepth.PRE_REVIEW
    max_visits = 1
    location = "河源市行政服务中心一楼综合窗口"
    hours = "周一至周五 8:30-12:00，14:30-17:30（法定节假日除外）"
    consult_phone = "0762-12345"
    complaint_phone = "0762-12345"
    form_schema = factory.LazyFunction(lambda: [dict(f) for f in FORM_SCHEMA])


class MaterialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaterialRequirement

    version = factory.SubFactory(ItemVersionFactory)
    order = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"申请材料{n}")


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    version = factory.SubFactory(ItemVersionFactory)
    order = 1
    name = "承办"
    kind = Stage.Kind.HANDLE
    role = "handler"
    time_share = 40


_names = itertools.count(1)
_base_codes = itertools.count(1)


def version_fields(**overrides) -> dict:
    """The elements of a complete version, as ``services.create_draft`` takes them."""
    fields = {
        "name": f"测试事项{next(_names)}",
        "item_type": ItemType.LICENSING,
        "service_object": ServiceObject.PERSON,
        "theme": Theme.MARKET,
        "keywords": "测试",
        "legal_basis": "《中华人民共和国行政许可法》",
        "conditions": "符合法定条件。",
        "handling": Handling.PROMISED,
        "statutory_days": 20,
        "promised_days": 10,
        "online_depth": OnlineDepth.PRE_REVIEW,
        "max_visits": 1,
        "location": "河源市行政服务中心一楼综合窗口",
        "hours": "周一至周五 8:30-12:00，14:30-17:30（法定节假日除外）",
        "consult_phone": "0762-12345",
        "complaint_phone": "0762-12345",
        "form_schema": [dict(f) for f in FORM_SCHEMA],
    }
    fields.update(overrides)
    return fields


STANDARD_STAGES = [
    {"name": "承办", "kind": Stage.Kind.HANDLE, "role": "handler", "time_share": 40},
    {"name": "审核", "kind": Stage.Kind.REVIEW, "role": "reviewer", "time_share": 30},
    {"name": "审批", "kind": Stage.Kind.DECIDE, "role": "approver", "time_share": 30},
]
STANDARD_MATERIALS = [
    {"name": "申请书", "kind": MaterialRequirement.Kind.ORIGINAL},
    {"name": "申请人身份证明", "kind": MaterialRequirement.Kind.COPY},
]


def draft_version(
    *,
    department: Department | None = None,
    base_code: str | None = None,
    level: str = ExerciseLevel.CITY,
    materials: list[dict] | None = None,
    stages: list[dict] | None = None,
    **overrides,
) -> ItemVersion:
    """A new item with one complete draft version, made through the services."""
    department = department or DepartmentFactory()
    if base_code is None:
        base_code = f"0199{next(_base_codes):08d}"
    item = services.create_item(base_code=base_code, department=department, exercise_level=level)
    return services.create_draft(
        item,
        materials=[dict(m) for m in (STANDARD_MATERIALS if materials is None else materials)],
        stages=[dict(s) for s in (STANDARD_STAGES if stages is None else stages)],
        **version_fields(**overrides),
    )


def published_version(**kwargs) -> ItemVersion:
    """A new item with one published version in force today."""
    return services.publish(draft_version(**kwargs))
