"""`yiwang load-demo` gives what it gave before its data moved to YAML files (``recorded.py``, written
down from the old loader), and running it again changes nothing."""

from __future__ import annotations

import io
from collections import Counter

from django.core.management import call_command

from yiwang.cases.models import Case

from . import recorded, snapshot


def test_row_counts_are_the_recorded_ones_and_a_second_run_adds_nothing(loaded_demo):
    assert snapshot.row_counts() == recorded.COUNTS
    call_command("load_demo", stdout=io.StringIO())
    assert snapshot.row_counts() == recorded.COUNTS


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
