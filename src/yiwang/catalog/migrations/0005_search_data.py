"""Existing data: each published version's hand-over day, and the seed synonyms. The index itself is
built after ``migrate`` by ``CatalogConfig`` (post_migrate) when it is empty, with the current code."""

import json
import re
import unicodedata
from pathlib import Path

from django.db import migrations
from django.db.models import OuterRef, Q, Subquery

SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "fixtures" / "synonyms.json"


def set_valid_until(apps, schema_editor):
    ItemVersion = apps.get_model("catalog", "ItemVersion")
    published = ItemVersion.objects.filter(status="published")
    later = (
        published.filter(item=OuterRef("item"))
        .filter(
            Q(effective_from__gt=OuterRef("effective_from"))
            | Q(effective_from=OuterRef("effective_from"), number__gt=OuterRef("number"))
        )
        .order_by("effective_from", "number")
        .values("effective_from")[:1]
    )
    published.update(valid_until=Subquery(later))


def _clean(text):
    return re.sub(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+", "", unicodedata.normalize("NFKC", text).lower())


def seed_synonyms(apps, schema_editor):
    Synonym = apps.get_model("catalog", "Synonym")
    for entry in json.loads(SYNONYMS_FILE.read_text(encoding="utf-8")):
        words = " ".join(_clean(w) for w in re.split(r"[\s,，、]+", entry["words"]) if _clean(w))
        Synonym.objects.get_or_create(phrase=_clean(entry["phrase"]), defaults={"words": words})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_search_index")]

    operations = [
        migrations.RunPython(set_valid_until, migrations.RunPython.noop),
        migrations.RunPython(seed_synonyms, migrations.RunPython.noop),
    ]
