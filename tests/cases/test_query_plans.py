"""Query plans of the hot paths "on paper" (docs/scaling.md): every query they send is answered
through an index, never by reading a whole big table, and every query on a distributed table either
names its shard (filters on region_code) or is one of the documented cross-shard queries
(``sharding.HOT_QUERIES``). And the colocated rows really share their case's region_code.

The plans are taken from the database itself: EXPLAIN on PostgreSQL with sequential and plain index
scans disabled, so that only bitmap scans (which need an index condition) remain: a ten-row test
table then still shows whether an index answers the query, whatever its statistics; EXPLAIN QUERY
PLAN on SQLite.
"""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from licences.factories import food_data, licence_type

from yiwang.cases import selectors, services
from yiwang.cases.models import OPEN_STATES, Case, CaseTask
from yiwang.cases.supervision import supervised_cases
from yiwang.catalog.selectors import search_items
from yiwang.core import sharding
from yiwang.identity.models import StaffRole
from yiwang.licences import selectors as licence_selectors
from yiwang.licences import services as licence_services

pytestmark = pytest.mark.django_db

# Tables small enough that a full read is the right plan at any scale (a few hundred rows).
SMALL_TABLES = {"core_calendaryear", "core_calendarday", "identity_region", "django_content_type"}
BULK = 3000  # cases added in one statement, so that PostgreSQL's statistics describe a table worth an index


def _big_tables() -> set[str]:
    """The tables whose plans mean something here. SQLite plans by rules: every table but the small
    ones. PostgreSQL plans by cost: after ANALYZE (statistics of this test's rows, whatever earlier
    tests or autovacuum left), only tables with enough rows to make an index worth using — the
    distributed tables filled by ``busy``; on tables of one or two rows a full read is its right
    choice, and their plans at scale are the benchmarks' business."""
    if connection.vendor != "postgresql":
        return set(connection.introspection.table_names()) - SMALL_TABLES
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= %s", [BULK // 2])
        return {row[0] for row in cursor.fetchall()} - SMALL_TABLES


def _explain(sql: str) -> list[tuple[str, str]]:
    """(operation, table) of every scan in the plan."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Only bitmap scans stay enabled, and they need an index condition: a table still read by
            # a (disabled) Seq Scan or plain index scan has no index that answers the query. Unlike a
            # cost comparison, this does not depend on the test tables' size or statistics.
            for method in ("seqscan",):
                cursor.execute(f"SET LOCAL enable_{method} = off")
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            raw = cursor.fetchone()[0]
            plan = json.loads(raw) if isinstance(raw, str) else raw
            found: list[tuple[str, str]] = []

            def walk(node: dict) -> None:
                if "Relation Name" in node:
                    op = node["Node Type"]
                    if op in ("Index Scan", "Index Only Scan") and "Index Cond" not in node:
                        op = "Seq Scan"  # the whole index in order: as much a full read as a Seq Scan
                    found.append(("Seq Scan" if op == "Seq Scan" else "Index", node["Relation Name"]))
                for child in node.get("Plans", []):
                    walk(child)

            walk(plan[0]["Plan"])
            return found
        tables = set(connection.introspection.table_names(cursor))  # not aliases (T4, U0) nor subqueries
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        found = []
        for row in cursor.fetchall():
            match = re.match(r"(SCAN|SEARCH) (\w+)(.*)", row[-1])
            if match and match.group(2) in tables:
                # SCAN reads the whole table (or the whole of an index); SEARCH looks up a range
                found.append(("Seq Scan" if match.group(1) == "SCAN" else "Index", match.group(2)))
        return found


def _queries(run) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        run()
    return [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]


DISTRIBUTED_TABLES = set(sharding.summary()[sharding.DISTRIBUTED])


def _filters_region(sql: str) -> bool:
    where = sql.upper().split(" WHERE ", 1)[-1] if " WHERE " in sql.upper() else ""
    return '"REGION_CODE" =' in where or '"REGION_CODE" IN' in where


def check_plans(name: str, run) -> list[str]:
    """Run one hot path; assert index use and shard routing of each query; return the SQL seen."""
    queries = _queries(run)
    assert queries, name
    big = _big_tables()
    routing = sharding.HOT_QUERIES[name]
    read_whole: set[str] = set()
    for sql in queries:
        scans = _explain(sql)
        full = {table for op, table in scans if op == "Seq Scan" and table in big}
        assert full <= routing.full_scans, f"{name}: reads the whole of {sorted(full)}: {sql}"
        read_whole |= full
        touched = {table for _op, table in scans} & DISTRIBUTED_TABLES
        if touched and routing.routed:
            assert _filters_region(sql), f"{name} is documented as routed to one shard, but: {sql}"
    if routing.full_scans:  # a documented finding: once fixed, strike it off HOT_QUERIES
        assert read_whole, f"{name} no longer reads {sorted(routing.full_scans)} whole: update sharding.HOT_QUERIES"
    return queries


@pytest.fixture
def busy(world, submit, accepted):
    """A few cases in several states, a licence and a supervisor, so that every path has rows to find."""
    cases = [submit(), submit(), accepted()]
    services.claim_task(world.handler, cases[2])
    StaffRole.objects.create(user=world.approver, department=world.market, role=StaffRole.Role.SUPERVISOR)
    world.supervisor = world.approver
    kind = licence_type()
    world.licence = licence_services.issue_licence(
        licence_type=kind, issuer=world.market, holder=world.citizen, data=food_data()
    )
    _bulk_cases(world, cases[2])
    return cases


def _bulk_cases(world, template: Case) -> None:
    """BULK other people's cases over several regions and states, each with one task, in two inserts."""
    # as in a province: most cases are closed, a tenth still open
    states = ["submitted", "accepted", *["completed"] * 9, *["delivered"] * 9]
    bulk = [
        Case(
            number=f"BULK{i:08d}", version=world.version, item=world.item, region_code=f"4416{i % 20:02d}",
            department=world.other if i % 2 else world.market, applicant_person=world.stranger,
            submitted_by=world.stranger_user, status=states[i % 20], form_data={}, channel="online",
            submitted_at=template.submitted_at, received_on=template.received_on,
            acceptance_due=template.acceptance_due, due_date=template.due_date,
        )
        for i in range(BULK)
    ]  # fmt: skip
    Case.objects.bulk_create(bulk, batch_size=1000)
    CaseTask.objects.bulk_create(
        [
            CaseTask(
                case=c,
                step=1,
                name="承办",
                kind="handle",
                role="handler",
                department=c.department,
                status="cancelled" if c.status in ("completed", "delivered") else "open",
                region_code=c.region_code,
            )
            for c in bulk
        ],  # fmt: skip
        batch_size=1000,
    )


def test_case_by_number(world, busy):
    number = busy[0].number
    check_plans("case_by_number", lambda: selectors.case_for_user(world.citizen_user, number))
    check_plans(
        "progress_query", lambda: selectors.progress_query(number, world.citizen.id_number[-4:])
    )  # fmt: skip


def test_applicants_cases(world, busy):
    check_plans("applicant_cases", lambda: list(selectors.cases_for_applicant(world.citizen_user)[:20]))


def test_department_queues(world, busy):
    check_plans("acceptance_queue", lambda: list(selectors.acceptance_queue(world.handler)[:20]))
    check_plans("work_queue", lambda: list(selectors.work_queue(world.handler)[:20]))


def test_supervision_list(world, busy):
    check_plans("supervision", lambda: list(supervised_cases(world.supervisor)[:20]))


def test_deadline_sweep_candidates(world, busy):
    """The sweep's reading query: the open cases (the rewritten sweep narrows it to due dates)."""
    check_plans("sweep", lambda: list(Case.objects.filter(status__in=OPEN_STATES).values_list("pk", flat=True)))


def test_licence_by_number_and_holder(world, busy):
    licence = world.licence
    check_plans("licence_by_number", lambda: licence_selectors.versions_of(licence))
    check_plans("licence_wallet", lambda: list(licence_selectors.wallet(world.citizen_user)[:20]))


def test_catalog_search(world, busy):
    check_plans("catalog_search", lambda: (search_items(q="食品").count(), search_items(q="食品")[:20]))


def test_colocated_rows_share_their_cases_region(world, busy, submit):
    """At the conversion every distributed → distributed key becomes (id, region_code): it holds only
    if each row carries exactly the region_code of the row it points to."""
    checked = 0
    for model, fk in sharding.colocated_foreign_keys():
        rows = model.objects.filter(**{f"{fk.name}__isnull": False})
        checked += rows.count()
        apart = rows.exclude(region_code=F(f"{fk.name}__region_code")).count()
        assert apart == 0, f"{model._meta.label}.{fk.name}: {apart} rows in another shard than their parent"
    assert checked >= 6  # materials and tasks of the cases above
