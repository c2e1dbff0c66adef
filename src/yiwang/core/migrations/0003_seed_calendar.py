from django.db import migrations


class Migration(migrations.Migration):
    """Seeding the calendar moved to 0004, once every day row belongs to its year."""

    dependencies = [("core", "0002_initial")]
    operations = []
