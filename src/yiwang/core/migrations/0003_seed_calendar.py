from django.db import migrations


def seed(apps, schema_editor):
    from yiwang.core.calendar import seed_from_package

    seed_from_package(day_model=apps.get_model("core", "CalendarDay"), year_model=apps.get_model("core", "CalendarYear"))


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
