"""`yiwang load-demo`: the demo data files (read and checked by ``files.py``) loaded through the services.

Identity (citizens, organisations, agents, roles), catalog (items, versions, publication), keys and
licences (types, issuing, the importer) are written by their services; regions, departments, staff
accounts and the catalog managers' group have no service and are written directly. A service's
refusal is reported with the file and entry it came from, and the whole step is rolled back. What
exists is kept, so a second run changes nothing. The demo cases are scenarios — code that drives the
case services step by step — and stay in ``yiwang.cases.demo``, which runs last.

The demo's story starts ``PUBLISHED_DAYS_AGO`` days back: the catalog is published then, and the
departments that issue licences receive their seal (SM2 key) then, so that the cases the case demo
back-dates into the following months issue licences their issuer's key was valid for.
"""

from __future__ import annotations

import datetime as dt
import shutil
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO
from unittest import mock

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from yiwang.catalog import services as catalog_services
from yiwang.catalog.models import ItemVersion, ResultType, ServiceItem
from yiwang.core import keys
from yiwang.core.errors import YiwangError
from yiwang.core.models import SigningKey
from yiwang.identity import services as identity_services
from yiwang.identity.models import AgentAuthorization, Department, LegalPerson, Region, StaffRole, User
from yiwang.licences import services as licence_services
from yiwang.licences.importer import import_licences
from yiwang.licences.models import Licence, LicenceType

from . import guide_files
from .files import OFFICE_ROLES, DemoData, DemoDataError, demo_data, history_issuers, read

ACTOR = "system:demo"
IMPORT_ACTOR = "demo"
CATALOG_GROUP = "事项管理员"
PUBLISHED_DAYS_AGO = 180
__all__ = ["DemoDataError", "demo_data", "load", "print_accounts", "read"]


# --- loading through the services ---------------------------------------------------------------


def published_moment() -> dt.datetime:
    """Where the demo's story starts: half a year ago, so that demo cases can be filed weeks back under
    versions already in force (a version may not be published with a past effective date)."""
    day = timezone.localdate() - dt.timedelta(days=PUBLISHED_DAYS_AGO)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


@contextmanager
def story_start() -> Iterator[None]:
    """Every service and audit event reads the clock through django.utils.timezone.now."""
    with mock.patch("django.utils.timezone.now", return_value=published_moment()):
        yield


@contextmanager
def _named(where: str) -> Iterator[None]:
    """A service's refusal becomes a DemoDataError that names the file and entry it came from."""
    try:
        yield
    except YiwangError as exc:
        raise DemoDataError([f"{where}：{exc.message}"]) from exc
    except ValidationError as exc:
        raise DemoDataError([f"{where}：{'；'.join(exc.messages)}"]) from exc


def load_region(data: DemoData | None = None) -> dict[str, Department]:
    """The regions and departments (by key); no service exists for them, they are reference data."""
    data = data or demo_data()
    for g in data.regions:
        defaults = {"name": g.name, "level": g.level, "parent_id": g.parent or None}
        Region.objects.update_or_create(code=g.code, defaults=defaults)
    out: dict[str, Department] = {}
    for d in data.departments.values():
        out[d.key], _ = Department.objects.update_or_create(
            credit_code=d.credit_code,
            defaults={
                "name": d.name,
                "short_name": d.short_name,
                "region_id": d.region,
                "parent": out.get(d.parent) if d.parent else None,
                "address": d.address,
                "phone": d.phone,
            },
        )
    return out


def _catalog_group() -> Group:
    group, _ = Group.objects.get_or_create(name=CATALOG_GROUP)
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="catalog")
        | Permission.objects.filter(content_type__app_label="identity", codename__startswith="view_")
    )
    return group


def _accounts(data: DemoData, departments: dict[str, Department]) -> int:
    # one Argon2 hash for every staff account: all share the documented password, and loading stays fast
    password_hash = make_password(data.password)
    admin_roles = (StaffRole.Role.ADMINISTRATOR, StaffRole.Role.CATALOG_MANAGER)
    created = 0
    group = _catalog_group()
    for staff in data.staff:
        user, new = User.objects.get_or_create(
            username=staff.username,
            defaults={
                "display_name": staff.display_name,
                "password": password_hash,
                "is_staff": staff.role in admin_roles,
                "is_superuser": staff.role == StaffRole.Role.ADMINISTRATOR,
            },
        )
        created += new
        if staff.role == StaffRole.Role.CATALOG_MANAGER:
            user.groups.add(group)
        identity_services.grant_role(user=user, department=departments[staff.department], role=staff.role, actor=ACTOR)
    for citizen in data.citizens:
        if identity_services.find_person_by_id_number(citizen.id_number) is None:
            with _named(f"region.yaml 个人（{citizen.name}）"):
                user = identity_services.register_citizen(
                    name=citizen.name,
                    id_number=citizen.id_number,
                    phone=citizen.phone,
                    password=data.password,
                    actor=ACTOR,
                )
                identity_services.update_person(
                    user.person,
                    address=citizen.address,
                    region=Region.objects.get(pk=citizen.region),
                    assurance_level=citizen.assurance_level,
                    actor=ACTOR,
                )
            created += 1
    for org in data.organisations:
        organisation = LegalPerson.objects.filter(uscc=org.uscc).first()
        if organisation is None:
            with _named(f"region.yaml 法人（{org.name}）"):
                organisation = identity_services.register_legal_person(
                    name=org.name,
                    uscc=org.uscc,
                    legal_representative=org.legal_representative,
                    address=org.address,
                    region=Region.objects.filter(pk=org.region).first(),
                    actor=ACTOR,
                )
        if org.agent:
            agent = identity_services.find_person_by_id_number(data.citizen(org.agent).id_number)
            if not AgentAuthorization.objects.filter(person=agent, organisation=organisation).exists():
                identity_services.authorize_agent(person=agent, organisation=organisation, actor=ACTOR)
    return created


def load_catalog(departments: dict[str, Department], data: DemoData | None = None) -> int:
    """The demo items, created and published as of ``published_moment()``. Returns how many were created."""
    data = data or demo_data()
    created = 0
    with story_start():
        for spec in data.items:
            department = departments[spec.department]
            code = catalog_services.implementation_code(department.credit_code, spec.level, spec.base_code)
            if ServiceItem.objects.filter(code=code).exists():
                continue
            with _named(spec.where), transaction.atomic():
                item = catalog_services.create_item(
                    base_code=spec.base_code, department=department, exercise_level=spec.level, actor=ACTOR
                )
                stages = [
                    {**s, "department": departments[s["department"]] if s["department"] else None} for s in spec.stages
                ]
                materials = guide_files.with_guide_files(
                    spec.fields.get("name", ""), spec.base_code, spec.fields.get("form_schema") or [], spec.materials
                )
                draft = catalog_services.create_draft(
                    item, actor=ACTOR, materials=materials, stages=stages, **spec.fields
                )
                catalog_services.publish(draft, actor=ACTOR)
            created += 1
    return created


def load_people_and_catalog(stdout: TextIO, data: DemoData | None = None) -> None:
    """The region, its departments, accounts, people and catalog; what exists is kept."""
    data = data or demo_data()
    with transaction.atomic():
        departments = load_region(data)
        accounts = _accounts(data, departments)
        items = load_catalog(departments, data)
    in_force = ItemVersion.objects.filter(status=ItemVersion.Status.PUBLISHED).values("item").distinct().count()
    city = next((g.name for g in data.regions if g.level == Region.Level.CITY), "")
    counties = sum(g.level == Region.Level.COUNTY for g in data.regions)
    stdout.write(
        f"演示数据：{city}及{counties}个县区，{len(data.departments)}个部门；"
        f"新建账号{accounts}个，新建事项{items}项（目录共{in_force}项）。\n"
    )


def _seals(data: DemoData, departments: dict[str, Department]) -> None:
    """Each department that issues demo licences gets its seal at the start of the story, before any
    licence it signs, the back-dated case decisions included."""
    issuers = {departments[h.issuer].credit_code for h in data.held} | history_issuers(data)
    issuers |= {
        departments[s.department].credit_code for s in data.items if s.fields["result_type"] == ResultType.LICENCE
    }
    with story_start():
        for owner in sorted(issuers - set(SigningKey.objects.values_list("owner", flat=True))):
            keys.create_key(owner, actor=ACTOR)


def _licence_types(data: DemoData) -> int:
    created = 0
    for n, spec in enumerate(data.licence_types, 1):
        existing = LicenceType.objects.filter(code=spec["code"]).first()
        licence_type = existing or LicenceType()
        wanted = {**spec, "active": True}
        if existing and all(getattr(existing, k) == v for k, v in wanted.items()):
            continue
        for key, value in wanted.items():
            setattr(licence_type, key, value)
        with _named(f"licences.yaml 第{n}个证照类型（{spec['name']}）"):
            licence_services.save_licence_type(licence_type, actor=ACTOR)
        created += existing is None
    return created


def _held(data: DemoData, departments: dict[str, Department]) -> int:
    """The licences the demo citizens hold, issued once each."""
    issued = 0
    for held in data.held:
        person = identity_services.find_person_by_id_number(data.citizen(held.holder).id_number)
        owned = Licence.objects.filter(
            type_code=held.type_code, holder_digest=person.id_digest, status=Licence.Status.VALID
        )
        if owned.exists():
            continue
        with _named(held.where):
            licence_services.issue_licence(
                licence_type=held.type_code,
                issuer=departments[held.issuer],
                holder=person,
                data=held.data,
                issue_date=held.issue_date,
            )
        issued += 1
    return issued


def load_licences(stdout: TextIO, data: DemoData | None = None) -> None:
    """Seals, licence types, the citizens' licences, then the historical licences (imported once)."""
    data = data or demo_data()
    departments = {k: Department.objects.get(credit_code=d.credit_code) for k, d in data.departments.items()}
    with transaction.atomic():
        _seals(data, departments)
        types = _licence_types(data)
        held = _held(data, departments)
    summary = ""
    if data.history is not None:
        # imported from a copy under DATA_DIR: rejected rows are written next to the file imported
        folder = Path(settings.DATA_DIR) / "demo"
        folder.mkdir(parents=True, exist_ok=True)
        copy = shutil.copyfile(data.history, folder / data.history.name)
        summary = import_licences(copy, actor=IMPORT_ACTOR).summary
    stdout.write(
        f"电子证照：新建证照类型{types}个；演示个人持有的证照新签发{held}张；存量入库 — {summary}\n"
        f"证照库共 {Licence.objects.count()} 个证照版本。\n"
    )


def load(stdout: TextIO, data: DemoData | None = None) -> None:
    """Everything, in order: people and catalog, licences, then the case scenarios; then the accounts."""
    from yiwang.cases import demo as case_demo
    from yiwang.core import services as core_services

    data = data or demo_data()
    load_people_and_catalog(stdout, data)
    load_licences(stdout, data)
    case_demo.load(stdout)
    # seal now rather than at the worker's next minute: the demo's history is checkpointed at once
    sealed = core_services.seal_pending_events()
    stdout.write(f"审计记录：{sum(cp.event_count for cp in sealed)} 条事件已封存入检查点。\n")
    print_accounts(stdout, data)


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - used)


def print_accounts(stdout: TextIO, data: DemoData | None = None) -> None:
    """The demo accounts, as a table in Chinese (all share one password)."""
    data = data or demo_data()
    roles = dict(StaffRole.Role.choices)
    w = stdout.write
    w("\n演示账号（密码均为 " + data.password + "）\n")
    w("=" * 72 + "\n")
    w(_pad("角色", 12) + _pad("账号", 14) + _pad("姓名", 12) + "部门\n")
    for staff in data.staff:
        if staff.role in OFFICE_ROLES.values():
            continue
        w(
            _pad(str(roles[staff.role]), 12)
            + _pad(staff.username, 14)
            + _pad(staff.display_name, 12)
            + data.departments[staff.department].name
            + "\n"
        )
    w("\n各部门后台办理人员（承办人 / 审核人 / 审批人）\n")
    for key in data.offices:
        w(f"  {data.departments[key].name}：{key}_handler / {key}_reviewer / {key}_approver\n")
    w("\n个人（用手机号码或公民身份号码登录；号码为演示数据）\n")
    for citizen in data.citizens:
        w(f"  {citizen.name}：手机 {citizen.phone}，公民身份号码 {citizen.id_number}\n")
    for org in data.organisations:
        agent = data.citizen(org.agent) if org.agent else None
        w(f"\n法人：{org.name}（统一社会信用代码 {org.uscc}）")
        w(f"，经办人 {agent.name}（以 {agent.phone} 登录后代表单位办事）\n" if agent else "\n")
    w("管理后台：网站地址后加 /admin/（admin 或 catalog 登录；yiwang serve 启动时列出完整网址）\n")
    w("=" * 72 + "\n")
