"""Generated historical licences (``generate_licences``, behind ``yiwang generate-load-data``) are
real imported licences: signed, genuine, in their audit chains, never doubled by a second run."""

import io

import pytest
from catalog.factories import DepartmentFactory
from django.core.management import call_command

from licences.factories import citizen, food_data, licence_type, organisation
from yiwang.core.errors import InvalidInput
from yiwang.licences import services
from yiwang.licences.loadgen import generate_licences
from yiwang.licences.models import HolderKind, Licence
from yiwang.licences.verification import record_problems

pytestmark = pytest.mark.django_db


def test_generated_licences_are_genuine_imports_modelled_on_the_library():
    department = DepartmentFactory()
    food = licence_type(holder_kind=HolderKind.ANY)
    services.issue_licence(licence_type=food, issuer=department, holder=citizen("张三"), data=food_data())
    services.issue_licence(licence_type=food, issuer=department, holder=organisation(), data=food_data())
    ticks = []
    assert generate_licences(40, seed=1, progress=ticks.append) == 40
    generated = Licence.objects.filter(origin="import")
    assert generated.count() == 40 and sum(ticks) == 40
    assert sorted(set(generated.values_list("holder_code_type", flat=True))) == ["001", "111"]
    assert generated.values("number").distinct().count() == 40
    for licence in generated[:10]:
        assert record_problems(licence) == []
        assert set(licence.data) == set(food_data())  # the template's 照面信息, every field
        assert licence.issuer == department
    assert generate_licences(40, seed=1) == 0  # the same batch again adds nothing
    assert generate_licences(5, seed=2) == 5
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "校验通过" in out.getvalue()


def test_without_a_licence_to_model_on_it_says_to_load_the_demo():
    with pytest.raises(InvalidInput, match="请先运行 yiwang load-demo"):
        generate_licences(10)
