from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _index_existing_catalog(sender, using="default", **kwargs) -> None:
    """After ``migrate``: an installation upgraded from before the search index gets it built once."""
    from .models import ItemVersion, SearchTerm
    from .services import rebuild_index

    if (
        not SearchTerm.objects.using(using).exists()
        and ItemVersion.objects.using(using).filter(status=ItemVersion.Status.PUBLISHED).exists()
    ):
        rebuild_index()


class CatalogConfig(AppConfig):
    name = "yiwang.catalog"
    label = "catalog"
    verbose_name = _("事项目录")

    def ready(self) -> None:
        post_migrate.connect(_index_existing_catalog, sender=self, dispatch_uid="catalog_index_existing")
