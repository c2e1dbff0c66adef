import datetime as dt
import json
import threading

import pytest
from catalog.factories import DepartmentFactory
from django.db import connection
from stdnum.iso7064 import mod_37_36

from licences.factories import citizen, food_data, licence_type, organisation, staff
from yiwang.core import audit
from yiwang.core.errors import Forbidden, InvalidInput, NotFound
from yiwang.licences import services
from yiwang.licences.models import HolderKind, Licence
from yiwang.licences.seal import identifier_problem, make_identifier

pytestmark = pytest.mark.django_db


def test_identifier_follows_gb_t_36904_with_a_mod_37_36_check_character():
    identifier = make_identifier("11100000000013338W001", "11441600MB2C90312K", 42, 1)
    prefix, rest = identifier[:15], identifier[15:]
    assert prefix == "1.2.156.3005.2."
    type_code, issuer, serial, version, check = rest.split(".")
    assert (type_code, issuer, serial, version) == ("11100000000013338W001", "11441600MB2C90312K", "0000042", "001")
    assert mod_37_36.is_valid(type_code + issuer + serial + version + check)
    assert identifier_problem(identifier) is None
    # one character changed anywhere in the middle parts is caught by the check character
    forged = identifier.replace(".0000042.", ".0000043.")
    assert identifier_problem(forged) == "证照标识校验位错误。"
    assert identifier_problem("2.16.156.x") == "证照标识应以 1.2.156.3005.2 开头。"


def test_issue_licence_records_the_gb_t_36903_metadata_and_seals_it():
    department = DepartmentFactory(name="河源市市场监督管理局")
    person = citizen("张三")
    licence = services.issue_licence(
        licence_type=licence_type(),
        issuer=department,
        holder=person,
        data={**food_data(), "unrelated": "不应出现"},
        issue_date=dt.date(2025, 3, 1),
    )
    licence.refresh_from_db()
    assert licence.name == "食品经营许可证"
    assert licence.type_code == "11100000000013338W001"
    assert licence.number == "JY4416000000001"
    assert licence.identifier == make_identifier("11100000000013338W001", department.credit_code, 1, 1)
    assert (licence.issuer_name, licence.issuer_code) == ("河源市市场监督管理局", department.credit_code)
    assert (licence.holder_name, licence.holder_code, licence.holder_code_type) == ("张三", person.id_number, "111")
    assert (licence.valid_from, licence.valid_until) == (dt.date(2025, 3, 1), dt.date(2030, 2, 28))
    assert licence.region_code == "441600"
    assert licence.data == food_data()  # only the fields the type defines
    assert licence.status == Licence.Status.VALID
    # the wallet key is the person's own blind index; the ID number is masked for display
    assert licence.holder_digest == person.id_digest
    assert licence.holder_masked == person.masked_id
    # the signed payload is the documented canonical JSON
    payload = json.loads(licence.payload)
    assert payload["holder_code"] == person.id_number and payload["version"] == "001"
    assert (
        licence.payload.encode()
        == json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    )
    assert [e.action for e in audit.history(licence)] == ["licence.issued"]
    assert person.id_number not in json.dumps(audit.history(licence).first().data)


def test_the_holder_id_number_and_the_signed_payload_are_encrypted_at_rest():
    person = citizen()
    licence = services.issue_licence(
        licence_type=licence_type(), issuer=DepartmentFactory(), holder=person, data=food_data()
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT holder_code, payload FROM licences_licence WHERE id = %s", [licence.pk])
        raw_code, raw_payload = cursor.fetchone()
    assert person.id_number not in raw_code and person.id_number not in raw_payload
    assert "张三小吃店" not in raw_payload


def test_serials_and_numbers_are_allocated_one_after_another_per_type_and_region():
    department = DepartmentFactory()
    kind = licence_type()
    issued = [
        services.issue_licence(licence_type=kind, issuer=department, holder=citizen(), data=food_data())
        for _ in range(3)
    ]
    assert [lic.serial for lic in issued] == [1, 2, 3]
    assert len({lic.identifier for lic in issued}) == 3
    assert [lic.number for lic in issued] == ["JY4416000000001", "JY4416000000002", "JY4416000000003"]
    # another department of the same region continues the region's sequence: numbers never repeat
    other = services.issue_licence(licence_type=kind, issuer=DepartmentFactory(), holder=citizen(), data=food_data())
    assert (other.serial, other.number) == (4, "JY4416000000004")


def test_missing_licence_data_is_refused_naming_every_missing_field():
    with pytest.raises(InvalidInput) as err:
        services.issue_licence(
            licence_type=licence_type(), issuer=DepartmentFactory(), holder=citizen(), data={"category": "预包装"}
        )
    assert err.value.message == "缺少照面信息：经营者名称、经营场所。"
    assert Licence.objects.count() == 0


def test_an_organisation_licence_type_refuses_a_person_as_holder():
    kind = licence_type(code="11100000000013338W005", name="道路运输经营许可证", holder_kind=HolderKind.ORGANISATION)
    with pytest.raises(InvalidInput, match="道路运输经营许可证的持证主体应为法人及其他组织"):
        services.issue_licence(licence_type=kind, issuer=DepartmentFactory(), holder=citizen(), data=food_data())
    org = organisation()
    licence = services.issue_licence(licence_type=kind, issuer=DepartmentFactory(), holder=org, data=food_data())
    assert (licence.holder_code, licence.holder_code_type, licence.holder_masked) == (org.uscc, "001", org.uscc)


def test_an_unknown_licence_type_code_is_a_clear_error():
    with pytest.raises(NotFound, match="证照类型 11100000000013338W099 未在证照目录中登记"):
        services.issue_licence(
            licence_type="11100000000013338W099", issuer=DepartmentFactory(), holder=citizen(), data={}
        )


def test_only_staff_of_the_issuing_department_may_issue():
    department = DepartmentFactory()
    with pytest.raises(Forbidden):
        services.issue_licence(
            licence_type=licence_type(), issuer=department, holder=citizen(), data=food_data(), actor=staff()
        )
    clerk = staff(department)
    licence = services.issue_licence(
        licence_type=licence_type(), issuer=department, holder=citizen(), data=food_data(), actor=clerk
    )
    assert audit.history(licence).first().actor == clerk.username


def test_a_licence_type_without_validity_period_is_valid_indefinitely():
    kind = licence_type(code="11100000000013338W004", name="结婚证", validity_years=None, fields=[])
    licence = services.issue_licence(licence_type=kind, issuer=DepartmentFactory(), holder=citizen(), data={})
    assert licence.valid_until is None
    assert json.loads(licence.payload)["valid_until"] is None


def test_a_licence_type_for_either_kind_of_holder_takes_a_person_or_an_organisation():
    kind = licence_type(code="11100000000013338W003", name="公共场所卫生许可证", holder_kind=HolderKind.ANY)
    department = DepartmentFactory()
    person = services.issue_licence(licence_type=kind, issuer=department, holder=citizen(), data=food_data())
    company = services.issue_licence(licence_type=kind, issuer=department, holder=organisation(), data=food_data())
    assert (person.holder_code_type, company.holder_code_type) == ("111", "001")


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_never_repeats_a_serial_or_number():
    """Eight issues released at once by a barrier (on PostgreSQL; SQLite's in-memory test database
    has one writer, so there they run in turn)."""
    department = DepartmentFactory()
    kind = licence_type()
    holders = [citizen() for _ in range(8)]
    numbers: list[str] = []

    def issue(person) -> None:
        numbers.append(
            services.issue_licence(licence_type=kind, issuer=department, holder=person, data=food_data()).number
        )

    if connection.vendor == "postgresql":
        barrier = threading.Barrier(len(holders))

        def run(person) -> None:
            barrier.wait()
            try:
                issue(person)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(p,)) for p in holders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    else:
        for person in holders:
            issue(person)
    assert len(set(numbers)) == 8
    assert sorted(Licence.objects.values_list("serial", flat=True)) == list(range(1, 9))


def test_only_the_holder_or_a_window_clerk_may_consent_to_a_use():
    department = DepartmentFactory()
    person = citizen()
    licence = services.issue_licence(licence_type=licence_type(), issuer=department, holder=person, data=food_data())
    with pytest.raises(Forbidden, match="只有持证人（或其经办人）可以授权使用该证照"):
        services.record_use(licence, department=department, case_number="C-1", actor=citizen().user)
    with pytest.raises(Forbidden):
        services.record_use(licence, department=department, case_number="C-1", actor=staff(department))
    use = services.record_use(
        licence, department=department, case_number="C-1", actor=staff(department), holder_is_applicant=True
    )
    assert use.purpose == "办件 C-1"
