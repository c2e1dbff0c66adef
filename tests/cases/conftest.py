"""A small world for case tests: one item (handled by 河源市市场监督管理局) with materials and the standard
three stages, a citizen, an organisation with its agent, and staff in two departments."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import zipfile
from types import SimpleNamespace

import pytest
from catalog.factories import STANDARD_STAGES, DepartmentFactory, published_version
from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.core.calendar import seed_from_package
from yiwang.core.ids import make_citizen_id, make_uscc
from yiwang.core.models import CalendarYear
from yiwang.identity.models import AgentAuthorization, LegalPerson, NaturalPerson, StaffRole, User

PASSWORD = "Yiwang-test-2026"

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40


def ofd_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", '<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>')
        archive.writestr("Doc_0/Document.xml", "<Document/>")
    return buffer.getvalue()


def upload(data: bytes = PDF, name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


_seq = itertools.count(1)

FORM = {"applicant_name": "张三", "id_number": "", "phone": "13800138000", "note": ""}


def make_person(name: str, *, with_user: bool = True) -> NaturalPerson:
    n = next(_seq)
    user = None
    if with_user:
        user = User.objects.create_user(
            username=f"citizen{n}", password=PASSWORD, display_name=name, phone=f"139{n:08d}"
        )
    return NaturalPerson.objects.create(
        name=name,
        id_number=make_citizen_id("441602", dt.date(1988, 1, 1) + dt.timedelta(days=n), n % 1000),
        phone=f"139{n:08d}",
        user=user,
    )


def make_staff(name: str, department, *roles: str) -> User:
    user = User.objects.create_user(username=f"staff{next(_seq)}", password=PASSWORD, display_name=name)
    for role in roles:
        StaffRole.objects.create(user=user, department=department, role=role)
    return user


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Every API request over HTTP checks a password; a fast hasher keeps the suite quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def calendar(db):
    """The official schedules that the chinese-calendar package knows (flushed by transactional tests)."""
    if not CalendarYear.objects.filter(year=2026).exists():
        seed_from_package(range(2024, 2027))


@pytest.fixture
def world(db, calendar):
    market = DepartmentFactory(name="河源市市场监督管理局")
    other = DepartmentFactory(name="河源市人力资源和社会保障局")
    version = published_version(
        department=market,
        name="食品经营许可",
        service_object="both",
        materials=[
            {"name": "食品经营许可申请书", "formats": "pdf"},
            {"name": "营业场所证明", "formats": "pdf,jpg,png,ofd"},
            {"name": "健康证明", "formats": "pdf,jpg", "required": False},
        ],
        stages=[dict(s) for s in STANDARD_STAGES],
    )
    materials = list(version.materials.order_by("order"))
    citizen = make_person("张三")
    stranger = make_person("李四")
    agent = make_person("王五")
    company = LegalPerson.objects.create(name="河源市好味餐饮有限公司", uscc=make_uscc("91441600", "MA4ABCD1"))
    AgentAuthorization.objects.create(person=agent, organisation=company)
    return SimpleNamespace(
        market=market,
        other=other,
        version=version,
        item=version.item,
        materials=materials,
        citizen=citizen,
        citizen_user=citizen.user,
        stranger=stranger,
        stranger_user=stranger.user,
        agent=agent,
        company=company,
        clerk=make_staff("窗口甲", market, StaffRole.Role.WINDOW_CLERK),
        other_clerk=make_staff("窗口乙", other, StaffRole.Role.WINDOW_CLERK),
        handler=make_staff("承办人", market, StaffRole.Role.HANDLER),
        reviewer=make_staff("审核人", market, StaffRole.Role.REVIEWER),
        approver=make_staff("审批人", market, StaffRole.Role.APPROVER),
        other_handler=make_staff("他局承办", other, StaffRole.Role.HANDLER, StaffRole.Role.APPROVER),
        form=dict(FORM, id_number=citizen.id_number),
    )


def files_for(world, *which: int, data: bytes = PDF) -> dict[int, SimpleUploadedFile]:
    """Uploads for the given material indexes (default: the two required ones)."""
    indexes = which or (0, 1)
    return {world.materials[i].pk: upload(data) for i in indexes}


@pytest.fixture
def submit(world):
    """Submit a complete online application as the citizen (or ``user``)."""
    from yiwang.cases import services

    def _submit(user=None, **kwargs):
        kwargs.setdefault("form_data", world.form)
        kwargs.setdefault("files", files_for(world))
        return services.submit_case(user or world.citizen_user, item=world.item, **kwargs)

    return _submit


@pytest.fixture
def accepted(world, submit):
    from yiwang.cases import services

    def _accepted(**kwargs):
        case = submit(**kwargs)
        return services.accept_case(world.handler, case)

    return _accepted


def media_files(settings) -> list[str]:
    from pathlib import Path

    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []
