from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    label = "cases"
    verbose_name = _("办件管理")

    def ready(self) -> None:
        from yiwang.core import audit
        from yiwang.core.calendar import schedule_published

        from .models import Case
        from .tasks import on_schedule_published

        # every event of a case records the status it left the case in (``_record``: "after")
        audit.register_stateful(Case, "status", lambda data: data.get("after"))

        # due dates computed across a year without an official schedule are provisional until it is entered
        schedule_published.connect(on_schedule_published, dispatch_uid="cases.recompute_due_dates")
