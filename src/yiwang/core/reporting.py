"""Error reports (the 500 e-mail to ADMINS, DEBUG pages) without personal data: the posted phone
numbers, addresses, ID numbers and accounts are masked like on the pages; the keys are hidden."""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter

from .ids import mask

# posted field name → kind of personal datum (the forms' and the API's names)
_POSTED = [
    (re.compile(r"id_number|citizen_id|id_card", re.I), "id_number"),
    (re.compile(r"phone|mobile", re.I), "phone"),
    (re.compile(r"account|card_no", re.I), "account"),
    (re.compile(r"address", re.I), "address"),
]


class PersonalDataFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile("API|TOKEN|KEY|KEK|SECRET|PASS|SIGNATURE|HTTP_COOKIE", flags=re.I)

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if not params:
            return params
        params = params.copy()
        for name in list(params):
            kind = next((k for pattern, k in _POSTED if pattern.search(name)), None)
            if kind and params[name] != self.cleansed_substitute:
                params.setlist(name, [mask(kind, str(v)) for v in params.getlist(name)])
        return params
