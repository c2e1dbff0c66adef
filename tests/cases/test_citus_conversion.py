"""The conversion to the Citus layout (``sharding.conversion_sql``), run on the real schema with real
rows, on PostgreSQL without the Citus calls (Citus is not installed here; docs/scaling.md): every
statement is valid, the keys of distributed tables then include region_code, and a row moved to
another region than its case is refused. DDL is transactional on PostgreSQL, so the test's
transaction takes it all back."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from yiwang.cases.models import CaseMaterial
from yiwang.core import sharding

pytestmark = pytest.mark.django_db


def _unique_indexes_without_region(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(sharding._UNIQUE_INDEXES, [table])
        return [row[0] for row in cursor.fetchall() if sharding.DISTRIBUTION_COLUMN not in row[4]]


def test_the_conversion_runs_on_todays_schema_and_keeps_rows_beside_their_case(world, submit, accepted):
    if connection.vendor != "postgresql":
        with pytest.raises(NotImplementedError, match="PostgreSQL"):
            sharding.conversion_sql(connection)
        return
    accepted()
    case = submit()
    statements = sharding.conversion_sql(connection, citus=False)
    with connection.cursor() as cursor:
        for statement in statements:
            if not statement.startswith("--"):
                cursor.execute(statement)
    converted = [
        t.model._meta.db_table for t in sharding.tables() if t.kind == sharding.DISTRIBUTED and t.has_region_code
    ]
    assert "cases_case" in converted and "licences_licence" in converted
    for table in converted:
        assert _unique_indexes_without_region(table) == [], table
    # the tables still lacking region_code are named, not silently converted
    assert "-- cases_casenumbersequence: no region_code yet, stays as it is (docs/scaling.md §3.4)" in statements

    material = CaseMaterial.objects.filter(case=case).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseMaterial.objects.filter(pk=material.pk).update(region_code="110000")
    # the platform's own writes still work on the converted schema
    assert submit().materials.count() == 2


def test_the_citus_script_copies_reference_tables_before_the_tables_that_point_to_them(world):
    if connection.vendor != "postgresql":
        with pytest.raises(NotImplementedError, match="PostgreSQL"):
            sharding.conversion_sql(connection)
        return
    statements = sharding.conversion_sql(connection)
    order = [s.split("'")[1] for s in statements if s.startswith("SELECT create_reference_table")]
    assert order.index("identity_region") < order.index("identity_department") < order.index("catalog_serviceitem")
    assert order.index("identity_user") < order.index("identity_naturalperson")
    distributed = [s for s in statements if s.startswith("SELECT create_distributed_table")]
    assert distributed[0] == "SELECT create_distributed_table('cases_case', 'region_code', shard_count => 64)"
    assert "SELECT create_distributed_table('cases_casematerial', 'region_code', colocate_with => 'cases_case')" in (
        distributed
    )
    assert not any("cases_casenumbersequence" in s for s in distributed)


def test_the_command_prints_the_script_for_an_operator(world):
    out = io.StringIO()
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL"):
            call_command("citus_conversion_sql", stdout=out)
        return
    call_command("citus_conversion_sql", "--shard-count", "32", stdout=out)
    lines = out.getvalue().splitlines()
    commit = lines.index("COMMIT;")
    assert lines[0] == "BEGIN;"
    assert 'ALTER TABLE "cases_case" ADD CONSTRAINT "cases_case_pkey" PRIMARY KEY ("region_code", "id");' in lines
    assert "SELECT create_distributed_table('cases_case', 'region_code', shard_count => 32);" in lines[commit:]
    assert all(not line.startswith("SELECT create_") for line in lines[:commit])
