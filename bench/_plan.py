"""What the HTTP benchmarks send, found in the demo data of the bench's database (run inside Django:
``python -m bench._plan``, prints JSON): the submitting applicant and the item of the demo whose
application takes one of the applicant's own licences (免提交) and the fewest uploads; a user with exactly
``--cases`` cases for "my cases"; the handler of that item's department for its queue; a case for the
progress query.
"""

from __future__ import annotations

import argparse
import base64
import json
import os


def _submission(version, user, person) -> dict | None:
    """The application of ``user`` for ``version``: its form, one of the user's licences for a material
    that takes one (免提交), an upload for every other required material; None without such a licence."""
    from yiwang.cases import demo, selectors, services

    required = [r for r in version.materials.all() if r.required and r.source != "department"]
    offers = selectors.offers_for_application(user, version)
    licensed = [r for r in required if any(o.source == "licence" for o in offers.get(r.pk, []))]
    if not licensed:
        return None
    offer = next(o for o in offers[licensed[0].pk] if o.source == "licence")
    uploads = []
    for upload in required:
        if upload is licensed[0]:
            continue
        kind = services.allowed_formats(upload)[0]
        kind = "pdf" if kind == "ofd" else kind
        uploads.append(
            {
                "field": f"material_{upload.pk}",
                "filename": f"{upload.name}.{kind}",
                "data": base64.b64encode(demo._document(upload.name, kind)).decode(),
            }
        )
    return {
        "item": version.item.code,
        "item_name": version.name,
        "department_id": version.item.department_id,
        "fields": {
            "item": version.item.code,
            "form_data": demo._form(version, person),
            f"offer_{licensed[0].pk}": offer.reference,
        },
        "uploads": uploads,
    }


def plan(cases: int) -> dict:
    from yiwang.cases import demo, selectors, services
    from yiwang.cases.models import Case
    from yiwang.demo.files import demo_data
    from yiwang.identity.models import NaturalPerson, StaffRole

    password = demo_data().password
    cast = demo.Cast.discover()
    items = demo.Items.discover(cast)
    submit = None
    for user in cast.citizens:
        person = NaturalPerson.objects.get(user=user)
        # the item with the fewest materials to upload
        found = [s for s in (_submission(v, user, person) for v in items.promised) if s]
        if found:
            submit = min(found, key=lambda s: len(s["uploads"]))
            submit["username"] = user.username
            break
    if submit is None:
        raise SystemExit("the demo has no item with one upload and one licence of a demo applicant")
    # "my cases": another demo person, topped up to exactly ``cases`` cases (real submissions, in-process)
    person = (
        NaturalPerson.objects.filter(user__isnull=False, user__is_staff=False, user__staff_roles__isnull=True)
        .exclude(user__username=submit["username"])
        .select_related("user")
        .order_by("id")
        .first()
    )
    mine_user = person.user
    own = selectors.cases_for_applicant(mine_user, include_drafts=False)
    version = items.promised[0]
    for _ in range(max(0, cases - own.count())):
        services.submit_case(
            mine_user, item=version.item, form_data=demo._form(version, person), files=demo._materials(version)
        )
    submitter = next(u for u in cast.citizens if u.username == submit["username"])
    handler = StaffRole.objects.filter(department_id=submit["department_id"], role=StaffRole.Role.HANDLER).first()
    shown = own.exclude(number=None).order_by("id").first()
    assert own.count() == cases, f"{mine_user.username} has {own.count()} cases, not {cases}"
    return {
        "password": password,
        "submit": submit,
        "mine": {"username": mine_user.username, "cases": own.count()},
        "queue": {"username": handler.user.username},
        "progress": {"number": shown.number, "id_last4": shown.applicant_id_last4},
        "submitter_id": submitter.pk,
        # the bench's insert baseline copies this case's item and applicant (the submitting one)
        "insert_like": Case.objects.filter(submitted_by=submitter).exclude(number=None).values_list("pk", flat=True)[0],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.settings")
    import django

    django.setup()
    print(json.dumps(plan(args.cases), ensure_ascii=False))
