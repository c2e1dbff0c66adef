"""Presentation helpers shared by the portal's case pages (applicant, window, staff): status and
warning tags, the error page, the materials of a case with the data a material source supplied, and
list sizes. They read only; state changes go through ``yiwang.cases.services``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from yiwang.cases import selectors, services
from yiwang.cases.models import Case, CaseMaterial, Status, WarningLevel
from yiwang.core.errors import YiwangError
from yiwang.licences.models import Licence

PER_PAGE = 20

QUEUE_LIMIT = 50

WARNING_TAGS = {WarningLevel.YELLOW: "warn", WarningLevel.RED: "danger"}


STATUS_TAGS = {
    Status.APPROVED: "ok",
    Status.COMPLETED: "ok",
    Status.DELIVERED: "ok",
    Status.CORRECTION_REQUESTED: "warn",
    Status.SUSPENDED: "warn",
    Status.REFUSED: "danger",
    Status.DENIED: "danger",
}


SOURCE_LABELS = {
    "identifier": gettext_lazy("证照标识"),
    "name": gettext_lazy("证照名称"),
    "number": gettext_lazy("证照编号"),
    "issuer": gettext_lazy("颁发机构"),
    "issue_date": gettext_lazy("颁发日期"),
    "holder": gettext_lazy("持证主体"),
    "holder_code": gettext_lazy("持证主体代码"),
    "valid_from": gettext_lazy("有效期起"),
    "valid_until": gettext_lazy("有效期至"),
    "status": gettext_lazy("状态"),
}


def _error_page(request: HttpRequest, exc: YiwangError) -> HttpResponse:
    return render(request, "portal/cases/error.html", {"message": exc.message}, status=exc.status)


def _status_tag(case: Case) -> str:
    return STATUS_TAGS.get(case.status, "")


def _supplied(case: Case) -> dict[int, CaseMaterial]:
    return services.current_materials(case)


def _source_rows(data: dict) -> list[tuple[str, str]]:
    rows = []
    for key, value in (data or {}).items():
        if isinstance(value, dict):
            rows.extend((str(k), "" if v is None else str(v)) for k, v in value.items())
        elif key == "status" and value in Licence.Status.values:  # the stored value, shown by its label
            rows.append((str(SOURCE_LABELS[key]), str(Licence.Status(value).label)))
        else:
            rows.append((str(SOURCE_LABELS.get(key, key)), "" if value is None else str(value)))
    return rows


def _material_views(case: Case) -> list[dict]:
    current = _supplied(case)
    out = []
    for requirement in case.version.materials.all():
        material = current.get(requirement.pk)
        out.append(
            {
                "requirement": requirement,
                "material": material,
                "source_rows": _source_rows(material.source_data) if material and material.source_data else [],
            }
        )
    return out


def _case_facts(case: Case, *, holders: list[str] | None = None) -> dict[str, Any]:
    return {
        "holders": selectors.current_departments(case) if holders is None else holders,
        "status_tag": _status_tag(case),
        "warning_tag": WARNING_TAGS.get(case.warning_level, ""),
    }
