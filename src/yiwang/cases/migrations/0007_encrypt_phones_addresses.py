# The case's delivery address and the delivery's phone and address SM4-encrypted at rest, as in
# identity 0005: plain text columns first, rows encrypted in chunks by bulk_update, then the field type.

from django.db import migrations, models

import yiwang.core.fields
from yiwang.core.fields import convert_columns, decrypt_text, encrypt_text

COLUMNS = {"case": ["delivery_address"], "delivery": ["phone", "address"]}


def encrypt(apps, schema_editor):
    for name, fields in COLUMNS.items():
        convert_columns(apps.get_model("cases", name), fields, encrypt_text)


def decrypt(apps, schema_editor):
    for name, fields in COLUMNS.items():
        convert_columns(apps.get_model("cases", name), fields, decrypt_text)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_case_fewer_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="case", name="delivery_address", field=models.TextField(blank=True, verbose_name="邮寄地址")
        ),
        migrations.AlterField(
            model_name="delivery", name="address", field=models.TextField(blank=True, verbose_name="邮寄地址")
        ),
        migrations.AlterField(
            model_name="delivery", name="phone", field=models.TextField(blank=True, verbose_name="联系电话")
        ),
        migrations.RunPython(encrypt, decrypt),
        migrations.AlterField(
            model_name="case",
            name="delivery_address",
            field=yiwang.core.fields.EncryptedTextField(blank=True, max_length=200, verbose_name="邮寄地址"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="address",
            field=yiwang.core.fields.EncryptedTextField(blank=True, max_length=200, verbose_name="邮寄地址"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="phone",
            field=yiwang.core.fields.EncryptedTextField(blank=True, max_length=20, verbose_name="联系电话"),
        ),
    ]
