"""`yiwang load-demo`: the demo region (河源市), its departments, accounts, catalog, cases and licences.

Each app contributes ``yiwang.<app>.demo.load(stdout)``; every loader is idempotent, so running the
command twice changes nothing. The demo accounts are printed at the end.
"""

from importlib import import_module

from django.core.management.base import BaseCommand

# licences before cases: the licence types must exist when demo cases are approved (同步签发), and the
# demo citizens hold the licences that some demo applications reuse
LOADERS = ["yiwang.catalog.demo", "yiwang.licences.demo", "yiwang.cases.demo"]


class Command(BaseCommand):
    help = "载入演示数据（河源市）：区划、部门、账号、事项、办件、证照。可重复运行。"

    def handle(self, *args, **options):
        for name in LOADERS:
            try:
                module = import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                continue
            module.load(self.stdout)
        from yiwang.catalog.demo import print_accounts

        print_accounts(self.stdout)
