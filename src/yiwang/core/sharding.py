"""The Citus layout of the platform: where every table goes when PostgreSQL is sharded by region.

Every model table is one of three kinds (docs/scaling.md explains the choice table by table):

- **distributed** by ``region_code`` (the implementing region): the big tables of cases and licences.
  Rows of one region live in one shard, with the rows they point to, so that a region's work never
  leaves its node.
- **reference**: small or read-mostly tables copied to every node (regions, departments, people and
  accounts, the catalog, the calendar), which any shard may join locally.
- **local**: tables kept on the coordinator only (operations' logs, sessions, import bookkeeping).

``deviations()`` compares the layout with the models as they are and names what Citus would refuse:
a distributed table without ``region_code``, a primary key or unique constraint of a distributed
table without it, a foreign key Citus cannot keep. ``KNOWN_DEVIATIONS`` lists today's, each with the
change that closes it; tests/core/test_sharding.py holds the two equal, so the list can only shrink
(a closed deviation must be removed from it, a new one fails the test).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models

DISTRIBUTED = "distributed"
REFERENCE = "reference"
LOCAL = "local"
DISTRIBUTION_COLUMN = "region_code"

# label of the model ("app_label.ModelName"; auto-created many-to-many tables as Django names them)
LAYOUT: dict[str, str] = {
    # Django's own tables
    "admin.LogEntry": LOCAL,  # the admin's history: operators only, on the coordinator
    "auth.Permission": REFERENCE,
    "auth.Group": REFERENCE,
    "auth.Group_permissions": REFERENCE,
    "contenttypes.ContentType": REFERENCE,
    "sessions.Session": LOCAL,  # read from Redis (cached_db) in production, written through; see the doc
    # login lock-out (django-axes) and its access log: security bookkeeping, read by account or address
    "axes.AccessAttempt": LOCAL,
    "axes.AccessAttemptExpiration": LOCAL,
    "axes.AccessFailureLog": LOCAL,
    "axes.AccessLog": LOCAL,
    # core
    "core.CalendarYear": REFERENCE,
    "core.CalendarDay": REFERENCE,
    "core.AuditCheckpoint": REFERENCE,  # at most one row a minute; every shard's events point to it
    "core.AuditEvent": DISTRIBUTED,  # the subject's region ('' for people, keys, calendar years)
    "core.SigningKey": REFERENCE,  # the departments' seals: any node signs
    "core.Notification": LOCAL,  # an inbox per user, no region: on the coordinator
    # identity: read by every case query; written rarely (registration, roles)
    "identity.Region": REFERENCE,
    "identity.Department": REFERENCE,
    "identity.User": REFERENCE,
    "identity.User_groups": REFERENCE,
    "identity.User_user_permissions": REFERENCE,
    "identity.StaffRole": REFERENCE,
    "identity.NaturalPerson": REFERENCE,
    "identity.LegalPerson": REFERENCE,
    "identity.AgentAuthorization": REFERENCE,
    "identity.PasswordResetCode": LOCAL,  # short-lived SMS codes, by phone number
    # catalog: 125 k items, read by every case and every search, changed by catalog managers only
    "catalog.ServiceItem": REFERENCE,
    "catalog.ItemVersion": REFERENCE,
    "catalog.MaterialRequirement": REFERENCE,
    "catalog.Stage": REFERENCE,
    "catalog.SearchTerm": REFERENCE,
    "catalog.SearchWord": REFERENCE,
    "catalog.Synonym": REFERENCE,
    # cases: 24 M cases and their rows, all of one region together
    "cases.Case": DISTRIBUTED,
    "cases.CaseMaterial": DISTRIBUTED,
    "cases.CaseTask": DISTRIBUTED,
    "cases.ClockPause": DISTRIBUTED,
    "cases.Extension": DISTRIBUTED,
    "cases.CorrectionRequest": DISTRIBUTED,
    "cases.PaymentOrder": DISTRIBUTED,
    "cases.Delivery": DISTRIBUTED,
    "cases.CaseDocument": DISTRIBUTED,
    "cases.CaseNumberSequence": DISTRIBUTED,  # locked by every submission: must sit beside the case
    "cases.IdempotencyKey": DISTRIBUTED,
    # licences: 340 M licence versions
    "licences.LicenceType": REFERENCE,
    "licences.LicenceCounter": DISTRIBUTED,
    "licences.Licence": DISTRIBUTED,
    "licences.LicenceUse": DISTRIBUTED,
    "licences.ImportBatch": LOCAL,
    "licences.ImportRow": LOCAL,
}

# Foreign keys between distributed tables that are colocated: the referencing row always carries the
# region_code of the row it points to (the services copy it), so both live in the same shard.
COLOCATED = "colocated"

# Where Citus keeps a foreign key (source kind, target kind); a distributed → distributed key must
# also be colocated (same distribution column, same region_code value).
ALLOWED_FOREIGN_KEYS = {
    (DISTRIBUTED, DISTRIBUTED),
    (DISTRIBUTED, REFERENCE),
    (REFERENCE, REFERENCE),
    (LOCAL, REFERENCE),
    (LOCAL, LOCAL),
}

# What each kind of deviation needs, unless KNOWN_DEVIATIONS says more.
FIX = {
    "region_code": "add region_code (the case's or licence's region, copied by the service that writes the row)",
    "pk": "primary key (region_code, id) at the conversion; Django keeps id as its key (ids stay unique "
    "from one sequence)",
    "unique": "extend the unique constraint with region_code; uniqueness across regions, where needed, "
    "moves to a reference lookup table",
    "fk": "drop the database foreign key (keep the id column, checked by the service), or move the table",
}

# Today's deviations: key → the change that would close it. Keys are "kind:label[:name]".
KNOWN_DEVIATIONS: dict[str, str] = {
    # distributed tables that lack the distribution column
    "region_code:cases.CaseNumberSequence": "add region_code (the item's region) to the counter and its "
    "unique (code, day): one counter row per item and day already lies in one region",
    "region_code:licences.LicenceUse": "add region_code (the licence's region) so the use sits beside the "
    "licence; the using department's queries then cross shards, as LicenceUse is read per licence",
    # primary keys: Django's single id column on every distributed table
    "pk:core.AuditEvent": FIX["pk"],
    "pk:cases.Case": FIX["pk"],
    "pk:cases.CaseMaterial": FIX["pk"],
    "pk:cases.CaseTask": FIX["pk"],
    "pk:cases.ClockPause": FIX["pk"],
    "pk:cases.Extension": FIX["pk"],
    "pk:cases.CorrectionRequest": FIX["pk"],
    "pk:cases.PaymentOrder": FIX["pk"],
    "pk:cases.Delivery": FIX["pk"],
    "pk:cases.CaseDocument": FIX["pk"],
    "pk:cases.CaseNumberSequence": FIX["pk"],
    "pk:cases.IdempotencyKey": FIX["pk"],
    "pk:licences.LicenceCounter": FIX["pk"],
    "pk:licences.Licence": FIX["pk"],
    "pk:licences.LicenceUse": FIX["pk"],
    # unique constraints without region_code
    "unique:core.AuditEvent:hash": "unique (region_code, hash): an SM3 collision across regions is not a "
    "risk the constraint guards against; the chain's order is kept by the next constraint",
    "unique:core.AuditEvent:audit_subject_seq_unique": "unique (region_code, subject_type, subject_id, seq): "
    "a subject's events all carry its region, so the chain stays in one shard",
    "unique:cases.Case:case_number_unique": "unique (region_code, number); a number names its region when region_code "
    "leads it (the 实施编码 already embeds the department's credit code), so a lookup routes to one shard",
    "unique:cases.CaseMaterial:casematerial_one_per_round": FIX["unique"],
    "unique:cases.CaseMaterial:casematerial_one_free_per_item": FIX["unique"],
    "unique:cases.CorrectionRequest:correction_once_per_round": FIX["unique"],
    "unique:cases.PaymentOrder:number": "unique (region_code, number); the payment provider's callback "
    "then needs the region in the order number it echoes back",
    "unique:cases.PaymentOrder:payment_one_unpaid_per_case": FIX["unique"],
    "unique:cases.Delivery:case": FIX["unique"],
    "unique:cases.CaseNumberSequence:casenumber_code_day_unique": "with region_code added: unique "
    "(region_code, code, day)",
    "unique:cases.IdempotencyKey:idempotency_user_key_unique": "unique (region_code, user, key): a retry "
    "names the same item, hence the same region; a client reusing one key for two regions gets two cases",
    "unique:licences.Licence:identifier": "unique (region_code, identifier); 证照标识 lookups (verification "
    "by QR code) cross shards unless the identifier's issuer region routes them",
    "unique:licences.Licence:licence_number_unique": "unique (region_code, licence_type, number, version): "
    "the number embeds the issuer's region code already",
    "unique:licences.Licence:licence_serial_unique": FIX["unique"],
    "unique:licences.Licence:licence_case_unique": "unique (region_code, case_id) where version = 1: the "
    "licence takes the case's region",
    "unique:licences.Licence:previous": "unique (region_code, previous): a new version keeps the region",
    # foreign keys Citus cannot keep
    "fk:licences.LicenceUse:licence": "colocated once LicenceUse carries the licence's region_code (above)",
    "fk:licences.ImportRow:licence": "drop the database key (ImportRow is an import log on the coordinator "
    "that names the licence it made), or give ImportRow region_code and distribute it",
}


@dataclass(frozen=True)
class Table:
    label: str
    model: type[models.Model]
    kind: str | None

    @property
    def has_region_code(self) -> bool:
        return any(f.column == DISTRIBUTION_COLUMN for f in self.model._meta.concrete_fields)


def tables(candidates: list[type[models.Model]] | None = None) -> list[Table]:
    """Every model table of the project (Django's own and auto-created many-to-many tables included),
    or of ``candidates``."""
    found = []
    for model in apps.get_models(include_auto_created=True) if candidates is None else candidates:
        if model._meta.proxy or not model._meta.managed:
            continue
        found.append(Table(model._meta.label, model, LAYOUT.get(model._meta.label)))
    return sorted(found, key=lambda t: t.label)


def kind_of(model: type[models.Model]) -> str | None:
    return LAYOUT.get(model._meta.label)


def _unique_sets(model: type[models.Model]) -> list[tuple[str, list[str]]]:
    """(name, columns) of every unique constraint and unique field except the primary key."""
    opts = model._meta
    found = [(f.name, [f.column]) for f in opts.concrete_fields if f.unique and not f.primary_key]
    for constraint in opts.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            if constraint.fields:
                found.append((constraint.name, [opts.get_field(n).column for n in constraint.fields]))
            else:  # an expression: named by its constraint, counted as lacking region_code
                found.append((constraint.name, []))
    for fields in opts.unique_together:
        found.append(("_".join(fields), [opts.get_field(n).column for n in fields]))
    return found


def _foreign_keys(model: type[models.Model]) -> list[models.ForeignKey]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey) and f.db_constraint]


def deviations(candidates: list[type[models.Model]] | None = None) -> dict[str, str]:
    """What Citus would refuse in today's schema under LAYOUT: key → explanation."""
    found: dict[str, str] = {}
    for table in tables(candidates):
        if table.kind is None:
            found[f"unclassified:{table.label}"] = "not in sharding.LAYOUT"
            continue
        model = table.model
        if table.kind == DISTRIBUTED:
            if not table.has_region_code:
                found[f"region_code:{table.label}"] = "distributed table without region_code"
            if model._meta.pk.column != DISTRIBUTION_COLUMN:
                found[f"pk:{table.label}"] = f"primary key ({model._meta.pk.column}) lacks region_code"
            for name, columns in _unique_sets(model):
                if DISTRIBUTION_COLUMN not in columns:
                    found[f"unique:{table.label}:{name}"] = f"unique ({', '.join(columns)}) lacks region_code"
        for fk in _foreign_keys(model):
            target = fk.related_model
            target_kind = kind_of(target)
            key = f"fk:{table.label}:{fk.name}"
            if target_kind is None:
                continue  # reported as unclassified
            if (table.kind, target_kind) not in ALLOWED_FOREIGN_KEYS:
                found[key] = f"{table.kind} → {target_kind} ({target._meta.label})"
            elif table.kind == DISTRIBUTED and target_kind == DISTRIBUTED:
                target_table = Table(target._meta.label, target, target_kind)
                if not (table.has_region_code and target_table.has_region_code):
                    found[key] = f"distributed → distributed ({target._meta.label}) that cannot be colocated"
    return found


def colocated_foreign_keys() -> list[tuple[type[models.Model], models.ForeignKey]]:
    """Foreign keys between two distributed tables, both carrying region_code: at the conversion each
    becomes (fk_id, region_code) → (id, region_code), which holds only if the two rows share region_code."""
    pairs = []
    for table in tables():
        if table.kind != DISTRIBUTED or not table.has_region_code:
            continue
        for fk in _foreign_keys(table.model):
            target = fk.related_model
            if kind_of(target) == DISTRIBUTED and Table(target._meta.label, target, DISTRIBUTED).has_region_code:
                pairs.append((table.model, fk))
    return pairs


def summary() -> dict[str, list[str]]:
    """Database table names by kind (for docs/scaling.md and the conversion script)."""
    out: dict[str, list[str]] = {DISTRIBUTED: [], REFERENCE: [], LOCAL: []}
    for table in tables():
        if table.kind:
            out[table.kind].append(table.model._meta.db_table)
    return out


@dataclass(frozen=True)
class HotQuery:
    """A hot read path and how Citus answers it: ``routed`` when every query filters on region_code
    (one shard), else a cross-shard query that fans out to every shard, with the reason and the remedy."""

    routed: bool
    note: str
    # tables this path reads whole today (a finding of the plan test, to be fixed; the list only shrinks)
    full_scans: frozenset[str] = frozenset()


HOT_QUERIES: dict[str, HotQuery] = {
    "case_by_number": HotQuery(
        False,
        "the number does not name its region: one index probe per shard; routed once the number leads "
        "with region_code or the caller passes it",
    ),
    "progress_query": HotQuery(False, "as case_by_number (the public progress query)"),
    "applicant_cases": HotQuery(
        False,
        "a citizen's cases across regions: by design a fan-out, each shard answering from its applicant "
        "indexes; or a reference index person → (region_code, case id)",
        # the applicant filter ORs conditions through joins (applicant_person__user, agent__user), which
        # no index answers: resolving the user's person and organisations first (ids) lets the four
        # case columns' indexes be combined (BitmapOr)
        full_scans=frozenset({"cases_case", "identity_naturalperson"}),
    ),
    "acceptance_queue": HotQuery(
        False, "filters on the department, not its region: adding region_code IN (the departments' regions) routes it"
    ),
    "work_queue": HotQuery(False, "as acceptance_queue, through the task's department"),
    "supervision": HotQuery(True, "filters on the supervised regions: only their shards"),
    "sweep": HotQuery(False, "the whole province by design: run as one task per region so that each is routed"),
    "licence_by_number": HotQuery(
        False, "the number embeds the issuer's region code; routed once region_code is taken from it"
    ),
    "licence_wallet": HotQuery(False, "a holder's licences from every region: a fan-out on the holder index"),
    "catalog_search": HotQuery(True, "reference tables only: answered by one node, no shard involved"),
}


# --- the conversion ---------------------------------------------------------------------------

_UNIQUE_INDEXES = """
SELECT ci.relname, pg_get_indexdef(i.indexrelid), c.conname, c.contype,
       array(SELECT a.attname FROM unnest(i.indkey) k JOIN pg_attribute a
             ON a.attrelid = i.indrelid AND a.attnum = k)
FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u')
WHERE i.indrelid = %s::regclass AND i.indisunique
ORDER BY ci.relname
"""
_FOREIGN_KEYS_INTO = """
SELECT src.relname, c.conname, dst.relname, a.attname
FROM pg_constraint c JOIN pg_class src ON src.oid = c.conrelid JOIN pg_class dst ON dst.oid = c.confrelid
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND dst.relname = ANY(%s)
ORDER BY src.relname, c.conname
"""


def _short(name: str, suffix: str) -> str:
    return name[: 63 - len(suffix)] + suffix  # PostgreSQL's identifier limit


def _reference_order(names: list[str], fks: dict[str, set[str]]) -> list[str]:
    """Reference tables with the ones others point to first (Citus copies a table's targets first)."""
    done: list[str] = []

    def visit(name: str, path: frozenset[str]) -> None:
        if name in done or name in path:
            return
        for target in sorted(fks.get(name, ())):
            if target in names:
                visit(target, path | {name})
        done.append(name)

    for name in names:
        visit(name, frozenset())
    return done


def conversion_sql(connection, *, citus: bool = True, shard_count: int = 64) -> list[str]:
    """The statements that turn today's PostgreSQL schema into the Citus layout, read from the live
    catalog: primary keys and unique indexes of distributed tables extended with region_code, foreign
    keys between colocated tables made (region_code, fk) → (region_code, id), the other keys into
    distributed tables dropped (the documented deviations), then, with ``citus``, the
    create_reference_table / create_distributed_table calls. Distributed tables still lacking
    region_code are left out (a comment says so). PostgreSQL only."""
    if connection.vendor != "postgresql":
        raise NotImplementedError("Citus runs on PostgreSQL only; this database is " + connection.vendor)
    layout = [t for t in tables() if t.kind]
    distributed = [t for t in layout if t.kind == DISTRIBUTED and t.has_region_code]
    names = [t.model._meta.db_table for t in distributed]
    skipped = [t.model._meta.db_table for t in layout if t.kind == DISTRIBUTED and not t.has_region_code]
    colocated = {(m._meta.db_table, fk.column) for m, fk in colocated_foreign_keys()}
    sql = ["SET CONSTRAINTS ALL IMMEDIATE"]  # pending checks fire now, so that ALTER TABLE may run
    sql += [f"-- {name}: no region_code yet, stays as it is (docs/scaling.md §3.4)" for name in skipped]
    readd = []
    with connection.cursor() as cursor:
        cursor.execute(_FOREIGN_KEYS_INTO, [names])
        for src, constraint, dst, column in cursor.fetchall():
            sql.append(f'ALTER TABLE "{src}" DROP CONSTRAINT "{constraint}"')
            if (src, column) in colocated:
                readd.append(
                    f'ALTER TABLE "{src}" ADD CONSTRAINT "{_short(constraint, "_r")}" FOREIGN KEY '
                    f'("{DISTRIBUTION_COLUMN}", "{column}") REFERENCES "{dst}" ("{DISTRIBUTION_COLUMN}", "id") '
                    "DEFERRABLE INITIALLY DEFERRED"
                )
        for table in names:
            cursor.execute(_UNIQUE_INDEXES, [table])
            for index, definition, constraint, contype, columns in cursor.fetchall():
                if DISTRIBUTION_COLUMN in columns:
                    continue
                if contype == "p":
                    sql.append(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"')
                    cols = ", ".join(f'"{c}"' for c in [DISTRIBUTION_COLUMN, *columns])
                    sql.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" PRIMARY KEY ({cols})')
                    continue
                sql.append(
                    f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"' if constraint else f'DROP INDEX "{index}"'
                )
                # the same index (method, columns, partial condition) with region_code first
                head, rest = definition.split(" USING ", 1)
                method, columns_and_tail = rest.split(" (", 1)
                head = head.replace(f"INDEX {index} ON", f'INDEX "{_short(index, "_r")}" ON', 1)
                sql.append(f'{head} USING {method} ("{DISTRIBUTION_COLUMN}", {columns_and_tail}')
        fks: dict[str, set[str]] = {}
        if citus:
            cursor.execute(
                "SELECT src.relname, dst.relname FROM pg_constraint c JOIN pg_class src ON src.oid = c.conrelid "
                "JOIN pg_class dst ON dst.oid = c.confrelid WHERE c.contype = 'f'"
            )
            for src, dst in cursor.fetchall():
                fks.setdefault(src, set()).add(dst)
    sql += readd
    if citus:
        references = [t.model._meta.db_table for t in layout if t.kind == REFERENCE]
        sql += [f"SELECT create_reference_table('{name}')" for name in _reference_order(references, fks)]
        anchor = "cases_case" if "cases_case" in names else names[0]
        sql.append(
            f"SELECT create_distributed_table('{anchor}', '{DISTRIBUTION_COLUMN}', shard_count => {shard_count})"
        )
        sql += [
            f"SELECT create_distributed_table('{name}', '{DISTRIBUTION_COLUMN}', colocate_with => '{anchor}')"
            for name in names
            if name != anchor
        ]
    return sql
