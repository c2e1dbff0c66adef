"""Reads for supervisors (效能监督): the red (overdue) and yellow (near the limit) open cases of the
regions a supervisor watches — the region of each department where the user holds the supervisor role,
and every region below it. Read only: supervision never changes a case (the services refuse a
supervisor's writes, the portal and API answer 403). Permissions are filters in the query.
"""

from __future__ import annotations

from django.db.models import Case as Case_When
from django.db.models import IntegerField, Q, QuerySet, Value, When

from yiwang.identity.models import Department, Region, StaffRole

from .models import OPEN_STATES, Case, WarningLevel
from .selectors import LIMIT_LEVEL, with_time_limit

LEVELS = (WarningLevel.RED, WarningLevel.YELLOW)
_DEPTH = 5  # 省 → 市 → 县 → 乡镇 → 村: a region has at most this many levels below it


def is_supervisor(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and (
        StaffRole.objects.filter(user=user, role=StaffRole.Role.SUPERVISOR).exists()
    )


def supervised_regions(user) -> QuerySet[Region]:
    """The regions of the user's supervisor roles and all regions below them (one query)."""
    roots = StaffRole.objects.filter(user=user, role=StaffRole.Role.SUPERVISOR).values("department__region_id")
    below = Q(code__in=roots)
    path = "parent"
    for _ in range(_DEPTH):
        below |= Q(**{f"{path}__in": roots})
        path += "__parent"
    return Region.objects.filter(below)


def supervised_departments(user) -> QuerySet[Department]:
    return Department.objects.filter(region__in=supervised_regions(user)).order_by("region_id", "name")


def supervised_cases(user, *, department: int | None = None, level: str | None = None) -> QuerySet[Case]:
    """Open red and yellow cases of the supervised regions, red first, the longest overdue first."""
    if not is_supervisor(user):
        return Case.objects.none()
    qs = with_time_limit(Case.objects.filter(region_code__in=supervised_regions(user).values("code")))
    qs = qs.filter(status__in=list(OPEN_STATES), **{f"{LIMIT_LEVEL}__in": [level] if level in LEVELS else LEVELS})
    if department is not None:
        qs = qs.filter(department_id=department)
    red_first = Case_When(
        When(**{LIMIT_LEVEL: WarningLevel.RED}, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        qs.select_related("version", "item", "department", "applicant_person", "applicant_org")
        .annotate(limit_rank=red_first)
        .order_by("limit_rank", "due_date", "acceptance_due", "id")
    )


def supervised_case(user, number: str) -> Case | None:
    """One case on the supervision list by its number, or None."""
    return supervised_cases(user).filter(number=number).first()
