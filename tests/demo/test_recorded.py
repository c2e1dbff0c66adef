"""`yiwang load-demo` gives what it gave before its data moved to YAML files (``recorded.py``, written
down from the old loader), and running it again changes nothing."""

from __future__ import annotations

import io
from collections import Counter

from django.core.management import call_command

from yiwang.cases.models import Case
from yiwang.core.models import AuditEvent
from yiwang.licences.files import envelope_bytes
from yiwang.licences.models import Licence
from yiwang.licences.verification import verify_file, verify_licence

from . import recorded, snapshot

# People, organisations, agents, roles and licence types are now created through their services, which
# audit what they do; the old loader wrote those rows directly. These events are the only difference.
AUDITED_BY_SERVICES = {
    "role.granted": 57,
    "person.account_opened": 2,
    "person.updated": 2,  # address, region and assurance level of each citizen
    "organisation.registered": 1,
    "agent.authorized": 1,
    "licence_type.created": 5,
}


def test_row_counts_are_the_recorded_ones_and_a_second_run_adds_nothing(loaded_demo):
    audited = sum(AUDITED_BY_SERVICES.values())
    expected = {**recorded.COUNTS, "core_auditevent": recorded.COUNTS["core_auditevent"] + audited}
    assert snapshot.row_counts() == expected
    actions = Counter(AuditEvent.objects.filter(action__in=AUDITED_BY_SERVICES).values_list("action", flat=True))
    assert actions == AUDITED_BY_SERVICES
    call_command("load_demo", stdout=io.StringIO())
    assert snapshot.row_counts() == expected


def test_region_departments_accounts_and_people(loaded_demo):
    assert snapshot.regions() == recorded.REGIONS
    assert snapshot.departments() == recorded.DEPARTMENTS
    assert snapshot.accounts() == recorded.ACCOUNTS
    assert snapshot.group_permissions("事项管理员") == recorded.CATALOG_GROUP_PERMISSIONS
    assert snapshot.people() == recorded.PEOPLE


def test_catalog_and_items_field_by_field(loaded_demo):
    assert snapshot.catalog() == recorded.CATALOG
    for code, expected in recorded.ITEMS.items():
        assert snapshot.item(code) == expected, code


def test_licence_types_licences_and_cases(loaded_demo):
    assert snapshot.licence_types() == recorded.LICENCE_TYPES
    assert snapshot.licences() == recorded.LICENCES
    statuses = sorted(Counter(Case.objects.values_list("status", flat=True)).items())
    assert statuses == recorded.CASE_STATUSES


def test_every_licence_the_demo_holds_verifies(loaded_demo):
    """Each of the 356 licences verifies as a row of the library and as the .ylic file a third party
    checks (互认共享), the two 道路运输经营许可证 issued by back-dated demo decisions included."""
    licences = list(Licence.objects.select_related("licence_type").order_by("id"))
    assert len(licences) == recorded.COUNTS["licences_licence"]
    failures = {}
    for licence in licences:
        for verdict in (verify_licence(licence), verify_file(envelope_bytes(licence))):
            if not verdict.genuine:
                failures[(licence.name, licence.number)] = verdict.problems
    assert failures == {}
    by_case = Licence.objects.filter(origin=Licence.Origin.CASE)
    assert sorted(by_case.values_list("name", flat=True)) == ["道路运输经营许可证", "道路运输经营许可证"]
