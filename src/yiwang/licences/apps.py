from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "yiwang.licences"
    label = "licences"
    verbose_name = _("电子证照")

    def ready(self) -> None:
        # licences sit downstream of cases: they listen to its decisions (同步签发) and offer
        # themselves as a source of materials (免提交); cases never import licences.
        from yiwang.cases import material_sources
        from yiwang.cases.signals import case_decided
        from yiwang.core import audit

        from . import sources, tasks
        from .models import Licence

        # issuing, import and every status change record "status"; a use records none
        audit.register_stateful(Licence, "status", lambda data: data.get("status"))

        case_decided.connect(tasks.on_case_decided, dispatch_uid="licences.issue_on_decision")
        material_sources.register(sources.LicenceSource())
