"""The demo licences: types for the catalog's codes, the citizens' business licences that satisfy the
food licence item's material, a few hundred historical licences; loading twice changes nothing."""

import io

import pytest

from yiwang.cases.material_sources import offers_for
from yiwang.catalog.models import MaterialRequirement
from yiwang.demo import loader
from yiwang.demo.files import demo_data
from yiwang.identity.models import User
from yiwang.licences import selectors
from yiwang.licences.models import ImportBatch, Licence, LicenceType
from yiwang.licences.verification import record_problems

pytestmark = pytest.mark.django_db


def test_demo_licences_load_once_and_serve_the_demo_catalog(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    loader.load_people_and_catalog(io.StringIO())
    out = io.StringIO()
    loader.load_licences(out)
    assert "新建证照类型5个" in out.getvalue() and "演示个人持有的证照新签发2张" in out.getvalue()
    assert set(LicenceType.objects.values_list("code", flat=True)) == {
        "11100000000013338W001", "11100000000013338W002", "11100000000013338W003", "11100000000013338W004",
        "11100000000013338W005",
    }  # fmt: skip
    batch = ImportBatch.objects.get()
    assert batch.imported >= 300 and batch.rejected == 0
    total = Licence.objects.count()

    citizen = User.objects.get(username=demo_data().citizens[0].phone)
    material = MaterialRequirement.objects.get(version__name="食品经营许可（新办）", name="营业执照")
    offers = offers_for(material, person=citizen.person)
    assert [o.title.split()[0] for o in offers] == ["个体工商户营业执照"]
    held = [lic.name for lic in selectors.wallet(citizen)]
    assert "个体工商户营业执照" in held and "食品经营许可证" in held  # his own and his company's (一企一档)
    assert all(record_problems(lic) == [] for lic in Licence.objects.order_by("?")[:20])

    again = io.StringIO()
    loader.load_licences(again)
    assert "新建证照类型0个" in again.getvalue() and "本次导入 0 行" in again.getvalue()
    assert Licence.objects.count() == total
