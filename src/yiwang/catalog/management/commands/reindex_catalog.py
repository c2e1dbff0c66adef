"""`yiwang reindex-catalog`: build the catalog search index again from the versions in force."""

from django.core.management.base import BaseCommand

from yiwang.catalog.services import rebuild_index, seed_synonyms


class Command(BaseCommand):
    help = "重建事项搜索索引（分词、拼音、词汇表）；--synonyms 同时补充随版本提供的同义词。"

    def add_arguments(self, parser):
        parser.add_argument("--synonyms", action="store_true", help="补充数据文件中尚未定义的同义词")

    def handle(self, *args, **options):
        if options["synonyms"]:
            added = seed_synonyms(actor="command:reindex-catalog")
            self.stdout.write(f"新增同义词 {added} 条。")
        result = rebuild_index(progress=lambda n: self.stderr.write(f"已索引 {n} 个版本", ending="\r"))
        self.stderr.write("")
        self.stdout.write(
            f"已重建搜索索引：{result['versions']} 个事项版本，{result['terms']} 个词条，词汇 {result['words']} 个。"
        )
