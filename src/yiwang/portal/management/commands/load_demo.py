"""`yiwang load-demo`: the demo region (河源市), its departments, accounts, catalog, licences and cases.

The data are the YAML files of ``yiwang/demo`` (see docs/catalog.md, "Demo"); ``yiwang.demo.loader``
checks every file first and loads them through the services, then runs the case scenarios of
``yiwang.cases.demo``. Idempotent: running the command twice changes nothing. The demo accounts are
printed at the end.
"""

from django.core.management.base import BaseCommand, CommandError

from yiwang.demo.loader import DemoDataError, load


class Command(BaseCommand):
    help = "载入演示数据（河源市）：区划、部门、账号、事项、证照、办件。可重复运行。"

    def handle(self, *args, **options):
        try:
            load(self.stdout)
        except DemoDataError as exc:
            raise CommandError(str(exc)) from exc
