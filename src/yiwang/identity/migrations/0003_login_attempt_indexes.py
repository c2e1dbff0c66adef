"""Indexes on django-axes' tables for the queries of identity/lockout.py: each login counts an
account's and an address's failures within the lock-out window and deletes those older than it;
each logout finds the account's open login record. Axes indexes the columns one by one only."""

from django.db import migrations, models

INDEXES = {
    "AccessAttempt": [
        models.Index(fields=["username", "attempt_time"], name="axes_attempt_user_time"),
        models.Index(fields=["ip_address", "attempt_time"], name="axes_attempt_addr_time"),
        models.Index(fields=["attempt_time"], name="axes_attempt_time"),
    ],
    "AccessLog": [
        models.Index(fields=["username", "session_hash"], name="axes_log_user_session"),
        models.Index(fields=["attempt_time"], name="axes_log_time"),
    ],
}


def add(apps, schema_editor):
    for model_name, indexes in INDEXES.items():
        model = apps.get_model("axes", model_name)
        for index in indexes:
            schema_editor.add_index(model, index)


def remove(apps, schema_editor):
    for model_name, indexes in INDEXES.items():
        model = apps.get_model("axes", model_name)
        for index in indexes:
            schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0002_chinese_verbose_names"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(add, remove)]
