"""What `yiwang load-demo` leaves in the database, as plain values that can be written down literally.

Dates that follow the day the demo is loaded are given relative to it (days before today), so that
the recorded values hold on any day. Rows are ordered by stable keys (codes, usernames), never by id.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.apps import apps
from django.utils import timezone

from yiwang.catalog.models import ItemVersion, ServiceItem
from yiwang.core.models import SigningKey
from yiwang.identity.models import AgentAuthorization, Department, LegalPerson, NaturalPerson, Region, User
from yiwang.licences.models import Licence, LicenceType

# Tables that the migrations fill by themselves (the demo adds nothing to them).
SEEDED = {"auth_permission", "django_content_type", "core_calendarday", "core_calendaryear", "django_migrations"}


def row_counts() -> dict[str, int]:
    """Rows of every non-empty table except those the migrations seed."""
    counts = {}
    for model in apps.get_models(include_auto_created=True):
        table = model._meta.db_table
        if table in SEEDED:
            continue
        count = model._default_manager.count()
        if count:
            counts[table] = count
    return counts


def days_ago(day) -> int | None:
    return (timezone.localdate() - day).days if day else None


def regions() -> list[tuple]:
    return list(Region.objects.order_by("code").values_list("code", "name", "level", "parent_id"))


def departments() -> list[tuple]:
    return [
        (
            d.credit_code,
            d.name,
            d.short_name,
            d.region_id,
            d.parent.credit_code if d.parent else None,
            d.address,
            d.phone,
        )
        for d in Department.objects.select_related("parent").order_by("credit_code")
    ]


def accounts() -> list[tuple]:
    """(username, display name, phone, staff, superuser, active, groups, roles as (department code, role))."""
    users = User.objects.prefetch_related("groups", "staff_roles__department").order_by("username")
    return [
        (
            u.username,
            u.display_name,
            u.phone,
            u.is_staff,
            u.is_superuser,
            u.is_active,
            sorted(g.name for g in u.groups.all()),
            sorted((r.department.credit_code, r.role) for r in u.staff_roles.all()),
        )
        for u in users
    ]


def group_permissions(name: str) -> list[str]:
    from django.contrib.auth.models import Group

    group = Group.objects.get(name=name)
    return sorted(f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type"))


def people() -> dict[str, Any]:
    persons = [
        (p.name, p.id_number, p.phone, p.address, p.region_id, p.assurance_level, p.user.username if p.user else None)
        for p in NaturalPerson.objects.select_related("user").order_by("name")
    ]
    organisations = [
        (o.name, o.uscc, o.legal_representative, o.address, o.region_id) for o in LegalPerson.objects.order_by("uscc")
    ]
    agents = sorted(
        (a.person.name, a.organisation.uscc, a.valid_from, a.valid_until)
        for a in AgentAuthorization.objects.select_related("person", "organisation")
    )
    return {"persons": persons, "organisations": organisations, "agents": agents}


VERSION_FIELDS = [
    "number", "status", "name", "item_type", "exercise_level", "service_object", "theme", "keywords", "legal_basis",
    "conditions", "handling", "statutory_days", "promised_days", "acceptance_days", "fee", "fee_basis",
    "fee_before_completion", "online_depth", "max_visits", "location", "hours", "consult_phone", "complaint_phone",
    "process_description", "result_type", "result_name", "result_licence_type", "form_schema",
]  # fmt: skip
MATERIAL_FIELDS = ["order", "name", "required", "copies", "kind", "formats", "basis", "note", "source", "source_ref"]
STAGE_FIELDS = ["order", "name", "kind", "role", "time_share", "parallel_group"]


def item(code: str) -> dict[str, Any]:
    """One item with every version, its materials, stages and form, field by field."""
    found = ServiceItem.objects.select_related("department").get(code=code)
    versions = []
    for version in found.versions.order_by("number").prefetch_related("materials", "stages__department"):
        fields = {name: getattr(version, name) for name in VERSION_FIELDS}
        fields["fee"] = str(fields["fee"])
        fields["effective_from_days_ago"] = days_ago(version.effective_from)
        fields["published_days_ago"] = days_ago(timezone.localdate(version.published_at))
        fields["materials"] = [
            {name: getattr(m, name) for name in MATERIAL_FIELDS} for m in version.materials.order_by("order")
        ]
        fields["stages"] = [
            {
                **{name: getattr(s, name) for name in STAGE_FIELDS},
                "department": s.department.credit_code if s.department else None,
            }
            for s in version.stages.order_by("order", "id")
        ]
        versions.append(fields)
    return {
        "code": found.code,
        "base_code": found.base_code,
        "department": found.department.credit_code,
        "region": found.region_id,
        "versions": versions,
    }


def catalog() -> list[tuple]:
    """Every item in creation order: (code, name, versions, materials and stages of the current one)."""
    rows = []
    for version in ItemVersion.objects.select_related("item").order_by("item__created_at", "item__id", "number"):
        rows.append((version.item.code, version.name, version.number, version.status, version.materials.count(),
                     version.stages.count()))  # fmt: skip
    return rows


def licence_types() -> list[dict[str, Any]]:
    names = ["code", "name", "issuer_kind", "holder_kind", "validity_years", "number_prefix", "fields", "active"]
    return [{n: getattr(t, n) for n in names} for t in LicenceType.objects.order_by("code")]


def licences() -> dict[str, Any]:
    by_kind = Counter(Licence.objects.values_list("type_code", "status", "origin"))
    issued = [
        (lic.type_code, lic.holder_name, lic.issuer_code, lic.issue_date.isoformat(), lic.data)
        for lic in Licence.objects.filter(origin=Licence.Origin.MANUAL).order_by("holder_name")
    ]
    return {
        "by_type_status_origin": sorted((*k, n) for k, n in by_kind.items()),
        "issued_by_demo": issued,
        "key_owners": sorted(SigningKey.objects.values_list("owner", flat=True)),
    }
