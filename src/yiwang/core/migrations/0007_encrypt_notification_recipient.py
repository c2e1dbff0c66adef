# The recipient of a notification (a phone number or an e-mail address) SM4-encrypted at rest, as in
# identity 0005: a plain text column first, the rows encrypted in chunks by bulk_update, then the field.

from django.db import migrations, models

import yiwang.core.fields
from yiwang.core.fields import convert_columns, decrypt_text, encrypt_text


def encrypt(apps, schema_editor):
    convert_columns(apps.get_model("core", "Notification"), ["recipient"], encrypt_text)


def decrypt(apps, schema_editor):
    convert_columns(apps.get_model("core", "Notification"), ["recipient"], decrypt_text)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_chinese_verbose_names"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification", name="recipient", field=models.TextField(blank=True, verbose_name="接收方")
        ),
        migrations.RunPython(encrypt, decrypt),
        migrations.AlterField(
            model_name="notification",
            name="recipient",
            field=yiwang.core.fields.EncryptedTextField(blank=True, max_length=200, verbose_name="接收方"),
        ),
    ]
