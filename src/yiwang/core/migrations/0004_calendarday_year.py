import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def link_and_seed(apps, schema_editor):
    from yiwang.core.calendar import seed_from_package

    CalendarYear = apps.get_model("core", "CalendarYear")
    CalendarDay = apps.get_model("core", "CalendarDay")
    for year in sorted({d.year for d in CalendarDay.objects.values_list("date", flat=True)}):
        CalendarYear.objects.get_or_create(year=year, defaults={"source": "chinese-calendar"})
        CalendarDay.objects.filter(date__year=year).update(year_id=year)
    seed_from_package(day_model=CalendarDay, year_model=CalendarYear)


class Migration(migrations.Migration):
    # not atomic: PostgreSQL refuses to alter a table with pending deferred foreign-key checks
    atomic = False

    dependencies = [("core", "0003_seed_calendar")]

    operations = [
        migrations.AddField(
            model_name="calendaryear",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now, verbose_name="更新时间"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="calendaryear",
            name="source",
            field=models.CharField(blank=True, help_text="如：国务院办公厅关于2027年部分节假日安排的通知", max_length=200, verbose_name="来源"),
        ),
        migrations.AddField(
            model_name="calendarday",
            name="year",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="days",
                to="core.calendaryear",
                verbose_name="年份",
            ),
        ),
        migrations.RunPython(link_and_seed, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="calendarday",
            name="year",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="days",
                to="core.calendaryear",
                verbose_name="年份",
            ),
        ),
    ]
