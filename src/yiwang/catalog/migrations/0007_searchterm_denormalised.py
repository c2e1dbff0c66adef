"""The search index carries what a search filters and ranks on, over one covering index. The rows are
derived data: the table is created again, and ``post_migrate`` rebuilds it (``apps.py``)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_chinese_verbose_names"),
        ("identity", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchword",
            name="versions",
            field=models.PositiveIntegerField(default=0, verbose_name="事项版本数"),
        ),
        migrations.DeleteModel(name="SearchTerm"),
        migrations.CreateModel(
            name="SearchTerm",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("term", models.CharField(max_length=50, verbose_name="词条")),
                ("weight", models.PositiveSmallIntegerField(verbose_name="权重")),
                ("region_code", models.CharField(max_length=12, verbose_name="区划代码")),
                ("effective_from", models.DateField(null=True, verbose_name="生效日期")),
                ("valid_until", models.DateField(null=True, verbose_name="被新版本取代日期")),
                ("service_object", models.CharField(max_length=12, verbose_name="服务对象")),
                ("theme", models.CharField(max_length=20, verbose_name="主题分类")),
                ("item_type", models.CharField(max_length=2, verbose_name="事项类型")),
                ("handling", models.CharField(max_length=1, verbose_name="办件类型")),
                ("online_depth", models.PositiveSmallIntegerField(verbose_name="网上办理深度")),
                ("max_visits", models.PositiveSmallIntegerField(verbose_name="到现场次数")),
                ("popularity", models.PositiveIntegerField(default=0, verbose_name="浏览次数")),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="search_terms",
                        to="catalog.itemversion",
                        verbose_name="事项版本",
                    ),
                ),
                (
                    "item",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="catalog.serviceitem",
                        verbose_name="事项",
                    ),
                ),
                (
                    "department",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="identity.department",
                        verbose_name="实施机构",
                    ),
                ),
            ],
            options={
                "verbose_name": "搜索词条",
                "verbose_name_plural": "搜索词条",
                "indexes": [
                    models.Index(
                        fields=["term", "version", "weight", "popularity", "effective_from", "valid_until"],
                        name="searchterm_lookup",
                    )
                ],
            },
        ),
    ]
