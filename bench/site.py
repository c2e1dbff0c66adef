"""The bench-only URLs: the product's URLs plus two baselines, served by the same gunicorn set-up only
when the bench starts it (``DJANGO_SETTINGS_MODULE=bench.site_settings``); never part of the product.

- ``/bench/hello/``: a hello-world JSON answer through the whole middleware stack.
- ``/bench/insert/?like=<case id>``: a minimal Django endpoint, one transaction inserting 1 case (numbered
  ``BENCH…``, with the item and applicant of case ``like``), 3 materials and 1 audit row with the plain ORM
  (no services, no checks): what the framework itself can do per submission.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from yiwang.cases.api import ProgressThrottle
from yiwang.urls import handler400, handler403, handler404, handler500
from yiwang.urls import urlpatterns as product_urls

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

# the progress query is throttled per address (30/minute); the load generator is one address asking
# thousands of times, so the bench lifts the limit (the throttle's cache round trip is still paid)
ProgressThrottle.rate = "10000000/minute"

_templates: dict[str, dict] = {}


def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"hello": "world"})


def _case_template(like: str) -> dict:
    """The foreign keys of the inserted rows — those of case ``like`` (id), whose applicant is the
    submitting one of P1 — read once per process (a real endpoint would know them)."""
    if like not in _templates:
        from yiwang.cases.models import Case

        model = Case.objects.get(pk=int(like))
        requirement = model.version.materials.order_by("id").first()
        _templates[like] = dict(
            version_id=model.version_id, item_id=model.item_id, department_id=model.department_id,
            region_code=model.region_code, applicant_person_id=model.applicant_person_id,
            submitted_by_id=model.submitted_by_id, requirement_id=requirement.pk, form_data=model.form_data,
        )  # fmt: skip
    return _templates[like]


@csrf_exempt
def insert(request: HttpRequest) -> JsonResponse:
    from yiwang.cases.models import Case, CaseMaterial, Channel, Status
    from yiwang.core.models import AuditEvent

    t = _case_template(request.GET.get("like", ""))
    now = timezone.now()
    number = f"BENCH{uuid.uuid4().hex[:20]}"
    with transaction.atomic():
        case = Case.objects.create(
            number=number, version_id=t["version_id"], item_id=t["item_id"], department_id=t["department_id"],
            region_code=t["region_code"], applicant_person_id=t["applicant_person_id"],
            submitted_by_id=t["submitted_by_id"], channel=Channel.ONLINE, status=Status.SUBMITTED,
            form_data=t["form_data"], submitted_at=now, received_on=now.date(),
        )  # fmt: skip
        CaseMaterial.objects.bulk_create(
            CaseMaterial(
                case=case,
                requirement_id=t["requirement_id"],
                round=r,
                satisfied_by="licence",
                source_reference=f"bench-{r}",
                region_code=t["region_code"],
            )  # fmt: skip
            for r in (1, 2, 3)
        )
        AuditEvent.objects.create(
            subject_type="bench", subject_id=number, seq=1, action="submitted", at=now,
            region_code=t["region_code"], prev_hash="", hash=uuid.uuid4().hex,
        )  # fmt: skip
    return JsonResponse({"number": number}, status=201)


urlpatterns = [path("bench/hello/", hello), path("bench/insert/", insert), *product_urls]
