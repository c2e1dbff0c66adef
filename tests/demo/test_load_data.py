"""`yiwang generate-load-data` on the loaded demo: items, cases and licences, each as the platform reads them."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from yiwang.cases.models import Case
from yiwang.catalog import selectors as catalog_selectors
from yiwang.catalog.models import ServiceItem
from yiwang.licences.models import Licence
from yiwang.licences.verification import record_problems

pytestmark = pytest.mark.django_db


def test_generate_load_data_adds_items_cases_and_licences(loaded_demo):
    before = (ServiceItem.objects.count(), Case.objects.count(), Licence.objects.count())
    out = io.StringIO()
    call_command("generate_load_data", items=30, cases=40, licences=25, seed=7, stdout=out)
    after = (ServiceItem.objects.count(), Case.objects.count(), Licence.objects.count())
    assert [b - a for a, b in zip(before, after, strict=True)] == [30, 40, 25]
    text = out.getvalue()
    assert "已生成事项 30 条" in text and "已生成办件 40 条" in text and "已生成证照 25 条" in text
    # the generated items are indexed: searching for the name of one finds it
    generated = ServiceItem.objects.order_by("-pk").first()
    name = generated.versions.get().name
    assert generated.pk in {r.item.pk for r in catalog_selectors.search_items(q=name)[:200]}
    # every generated licence verifies like an issued one
    newest = Licence.objects.order_by("-pk")[:25]
    assert [record_problems(licence) for licence in newest] == [[]] * 25
