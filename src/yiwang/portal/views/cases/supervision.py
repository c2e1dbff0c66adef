"""The supervision page (效能监督) for supervisors: every red (overdue) and yellow (near the limit) open
case of the regions they watch, filtered by department and colour, paginated. Read only: no buttons;
the case pages open read-only and any action answers 403 (see ``staff``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from yiwang.cases import selectors, supervision
from yiwang.cases.models import WarningLevel

from ._shared import PER_PAGE


@login_required
def supervision_page(request: HttpRequest) -> HttpResponse:
    if not supervision.is_supervisor(request.user):
        return render(request, "portal/cases/error.html", {"message": _("效能监督页仅供监督员使用。")}, status=403)
    departments = list(supervision.supervised_departments(request.user))
    wanted = request.GET.get("department", "")
    department = next((d for d in departments if str(d.pk) == wanted), None)
    level = request.GET.get("level") if request.GET.get("level") in supervision.LEVELS else None
    cases = supervision.supervised_cases(request.user, department=department.pk if department else None, level=level)
    page = Paginator(cases, PER_PAGE).get_page(request.GET.get("page"))
    rows = selectors.attach_overdue_days(page.object_list)
    everything = supervision.supervised_cases(request.user)
    context = {
        "rows": rows,
        "page": page,
        "departments": departments,
        "department": department,
        "level": level,
        "levels": [(WarningLevel.RED, _("红色（已超期）")), (WarningLevel.YELLOW, _("黄色（即将到期）"))],
        "red_count": everything.filter(**{selectors.LIMIT_LEVEL: WarningLevel.RED}).count(),
        "yellow_count": everything.filter(**{selectors.LIMIT_LEVEL: WarningLevel.YELLOW}).count(),
        "regions": supervision.supervised_regions(request.user).filter(level__lte=3),
        "query": "&".join(
            f"{k}={v}" for k, v in (("department", wanted if department else ""), ("level", level or "")) if v
        ),
    }
    return render(request, "portal/cases/supervision.html", context)
