# Phone numbers and addresses SM4-encrypted at rest. The columns become plain text first, the rows are
# encrypted in chunks (bulk_update, 2 000 rows a query) while the historical model still reads them as
# text, and only then is the field the encrypted one. The account's and the reset code's phone get a
# keyed digest for lookups, filled in the same pass.

from django.db import migrations, models

import yiwang.core.fields
from yiwang.core.fields import convert_columns, decrypt_text, encrypt_text

COLUMNS = {
    "user": (["phone"], {"phone": ("phone_digest", "phone")}),
    "passwordresetcode": (["phone"], {"phone": ("phone_digest", "phone")}),
    "naturalperson": (["phone", "address"], {}),
    "legalperson": (["address"], {}),
}


def encrypt(apps, schema_editor):
    for name, (fields, digests) in COLUMNS.items():
        convert_columns(apps.get_model("identity", name), fields, encrypt_text, digests=digests)


def decrypt(apps, schema_editor):
    for name, (fields, _digests) in COLUMNS.items():
        convert_columns(apps.get_model("identity", name), fields, decrypt_text)


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0004_password_reset_code"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="passwordresetcode", name="resetcode_phone_created"),
        migrations.AddField(
            model_name="passwordresetcode",
            name="phone_digest",
            field=models.CharField(default="", editable=False, max_length=64, verbose_name="手机号码索引"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="user",
            name="phone_digest",
            field=models.CharField(
                blank=True, db_index=True, editable=False, max_length=64, verbose_name="手机号码索引"
            ),
        ),
        # plain text first: ciphertext is longer than the old varchar limits
        migrations.AlterField(
            model_name="user", name="phone", field=models.TextField(blank=True, verbose_name="手机号码")
        ),
        migrations.AlterField(
            model_name="passwordresetcode", name="phone", field=models.TextField(verbose_name="手机号码")
        ),
        migrations.AlterField(
            model_name="naturalperson", name="phone", field=models.TextField(blank=True, verbose_name="手机号码")
        ),
        migrations.AlterField(
            model_name="naturalperson", name="address", field=models.TextField(blank=True, verbose_name="联系地址")
        ),
        migrations.AlterField(
            model_name="legalperson", name="address", field=models.TextField(blank=True, verbose_name="住所")
        ),
        migrations.RunPython(encrypt, decrypt),
        migrations.AlterField(
            model_name="legalperson",
            name="address",
            field=yiwang.core.fields.EncryptedTextField(blank=True, max_length=200, verbose_name="住所"),
        ),
        migrations.AlterField(
            model_name="naturalperson",
            name="address",
            field=yiwang.core.fields.EncryptedTextField(blank=True, max_length=200, verbose_name="联系地址"),
        ),
        migrations.AlterField(
            model_name="naturalperson",
            name="phone",
            field=yiwang.core.fields.EncryptedTextField(blank=True, max_length=20, verbose_name="手机号码"),
        ),
        migrations.AlterField(
            model_name="passwordresetcode",
            name="phone",
            field=yiwang.core.fields.EncryptedTextField(max_length=20, verbose_name="手机号码"),
        ),
        migrations.AlterField(
            model_name="user",
            name="phone",
            field=yiwang.core.fields.EncryptedTextField(blank=True, max_length=20, verbose_name="手机号码"),
        ),
        migrations.AddIndex(
            model_name="passwordresetcode",
            index=models.Index(fields=["phone_digest", "created_at"], name="resetcode_phone_created"),
        ),
    ]
