"""`yiwang citus-conversion-sql`: print the statements that convert this database to the Citus layout."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from yiwang.core import sharding


class Command(BaseCommand):
    help = (
        "打印把当前 PostgreSQL 库转换为 Citus 分片布局（按 region_code 分布）的 SQL，只打印不执行；"
        "说明见 docs/scaling.md。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-citus", action="store_true", help="只改主键、唯一约束和外键，不含 create_*_table 调用"
        )
        parser.add_argument("--shard-count", type=int, default=64, help="分片数（默认 64）")

    def handle(self, *args, **options) -> None:
        try:
            statements = sharding.conversion_sql(
                connection, citus=not options["no_citus"], shard_count=options["shard_count"]
            )
        except NotImplementedError as exc:
            raise CommandError("Citus 只支持 PostgreSQL：请用 DATABASE_URL 指向 PostgreSQL 库。") from exc
        # the schema changes in one transaction; Citus's table calls after it, each on its own
        schema = [s for s in statements if not s.startswith("SELECT create_")]
        calls = [s for s in statements if s.startswith("SELECT create_")]
        self.stdout.write("BEGIN;")
        for statement in schema:
            self.stdout.write(statement if statement.startswith("--") else statement + ";")
        self.stdout.write("COMMIT;")
        for statement in calls:
            self.stdout.write(statement + ";")
