"""The Citus layout (yiwang.core.sharding) against the models as they are.

Every table is classified; a distributed table carries region_code; primary keys, unique constraints
and foreign keys that Citus would refuse are exactly the documented deviations of docs/scaling.md,
so that a new one fails here and a closed one must be struck off the list.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps

from yiwang.core import sharding
from yiwang.core.sharding import DISTRIBUTED, LOCAL, REFERENCE

DOC = Path(__file__).resolve().parents[2] / "docs" / "scaling.md"


def test_every_model_table_is_classified_and_the_layout_names_no_stale_table():
    labels = {t.label for t in sharding.tables()}
    unclassified = sorted(label for label in labels if label not in sharding.LAYOUT)
    assert unclassified == [], f"add these tables to sharding.LAYOUT (and docs/scaling.md): {unclassified}"
    assert sorted(set(sharding.LAYOUT) - labels) == []
    assert set(sharding.LAYOUT.values()) <= {DISTRIBUTED, REFERENCE, LOCAL}


def test_the_big_tables_are_distributed_and_the_shared_ones_reference_tables():
    """What an operator reads in the doc: cases and licences by region, people and the catalog everywhere."""
    layout = sharding.LAYOUT
    for label in ("cases.Case", "cases.CaseMaterial", "cases.CaseTask", "licences.Licence", "core.AuditEvent"):
        assert layout[label] == DISTRIBUTED, label
    for label in ("identity.Region", "identity.Department", "identity.NaturalPerson", "identity.User"):
        assert layout[label] == REFERENCE, label
    for label in ("catalog.ServiceItem", "catalog.ItemVersion", "catalog.SearchTerm", "core.CalendarDay"):
        assert layout[label] == REFERENCE, label
    summary = sharding.summary()
    assert "cases_case" in summary[DISTRIBUTED] and "identity_region" in summary[REFERENCE]


def test_distributed_tables_carry_region_code_except_the_documented_ones():
    missing = sorted(
        t.label for t in sharding.tables() if t.kind == DISTRIBUTED and not t.has_region_code
    )  # fmt: skip
    documented = sorted(k.split(":", 1)[1] for k in sharding.KNOWN_DEVIATIONS if k.startswith("region_code:"))
    assert missing == documented


def test_deviations_are_exactly_the_documented_ones():
    """Primary keys and unique constraints of distributed tables without region_code, and foreign keys
    Citus cannot keep: a new one must be avoided (or documented with its fix); a closed one removed."""
    found = sharding.deviations()
    new = sorted(set(found) - set(sharding.KNOWN_DEVIATIONS))
    closed = sorted(set(sharding.KNOWN_DEVIATIONS) - set(found))
    assert new == [], "new deviations from the Citus layout: " + "; ".join(f"{k} ({found[k]})" for k in new)
    assert closed == [], f"these deviations are closed: strike them off sharding.KNOWN_DEVIATIONS: {closed}"
    assert all(fix.strip() for fix in sharding.KNOWN_DEVIATIONS.values())


def test_foreign_keys_only_go_where_citus_keeps_them():
    """Distributed → reference, colocated distributed → distributed, reference → reference, local →
    reference or local; anything else is a documented deviation."""
    bad = sorted(k for k in sharding.deviations() if k.startswith("fk:"))
    assert bad == sorted(k for k in sharding.KNOWN_DEVIATIONS if k.startswith("fk:"))
    pairs = {(m._meta.label, fk.name) for m, fk in sharding.colocated_foreign_keys()}
    assert ("cases.CaseMaterial", "case") in pairs and ("cases.CaseTask", "case") in pairs
    for model, fk in sharding.colocated_foreign_keys():
        assert sharding.kind_of(fk.related_model) == DISTRIBUTED, (model, fk)


def test_every_deviation_is_named_in_the_scaling_doc():
    text = DOC.read_text(encoding="utf-8")
    for key in sharding.KNOWN_DEVIATIONS:
        kind, label, *name = key.split(":")
        model = apps.get_model(label)
        assert model._meta.db_table in text, f"docs/scaling.md does not name {model._meta.db_table} ({key})"


@isolate_apps("yiwang.core")
def test_the_check_names_each_kind_of_problem(monkeypatch):
    """A made-up schema with one problem of each kind: the check names every one of them."""

    class ProbeRegionTable(models.Model):
        region_code = models.CharField(max_length=12)
        number = models.CharField(max_length=20, unique=True)

        class Meta:
            app_label = "core"
            constraints = [
                models.UniqueConstraint(fields=["region_code", "number"], name="probe_region_number"),
            ]

        def __str__(self) -> str:
            return self.number

    class ProbeNoRegion(models.Model):
        parent = models.ForeignKey(ProbeRegionTable, on_delete=models.CASCADE)

        class Meta:
            app_label = "core"

        def __str__(self) -> str:
            return str(self.pk)

    class ProbeReference(models.Model):
        parent = models.ForeignKey(ProbeRegionTable, on_delete=models.CASCADE)

        class Meta:
            app_label = "core"

        def __str__(self) -> str:
            return str(self.pk)

    class ProbeForgotten(models.Model):
        class Meta:
            app_label = "core"

        def __str__(self) -> str:
            return str(self.pk)

    monkeypatch.setitem(sharding.LAYOUT, "core.ProbeRegionTable", DISTRIBUTED)
    monkeypatch.setitem(sharding.LAYOUT, "core.ProbeNoRegion", DISTRIBUTED)
    monkeypatch.setitem(sharding.LAYOUT, "core.ProbeReference", REFERENCE)
    found = sharding.deviations([ProbeRegionTable, ProbeNoRegion, ProbeReference, ProbeForgotten])
    assert set(found) == {
        "unclassified:core.ProbeForgotten",
        "region_code:core.ProbeNoRegion",
        "pk:core.ProbeRegionTable",
        "pk:core.ProbeNoRegion",
        "unique:core.ProbeRegionTable:number",  # probe_region_number includes region_code: no deviation
        "fk:core.ProbeNoRegion:parent",  # cannot be colocated without region_code
        "fk:core.ProbeReference:parent",  # a reference table cannot point into a shard
    }


@pytest.mark.parametrize("kind", [DISTRIBUTED, REFERENCE, LOCAL])
def test_the_doc_lists_every_table_of_each_kind(kind):
    text = DOC.read_text(encoding="utf-8")
    missing = [table for table in sharding.summary()[kind] if f"`{table}`" not in text]
    assert missing == [], f"docs/scaling.md does not list these {kind} tables: {missing}"
