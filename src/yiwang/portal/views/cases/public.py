"""The public progress query (办件进度查询) without logging in: case number + the last four characters of
the applicant's ID number, throttled per address together with the API.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yiwang.cases import selectors
from yiwang.cases.api import ProgressThrottle
from yiwang.core.errors import YiwangError
from yiwang.portal import forms_cases as f


@require_http_methods(["GET", "POST"])
def progress(request: HttpRequest) -> HttpResponse:
    """进度查询 without logging in: case number + the last four characters of the applicant's ID."""
    form = f.ProgressQueryForm(request.POST or None)
    result = None
    status = 200
    if request.method == "POST" and not ProgressThrottle().allow_request(request, None):
        form.add_error(None, _("查询过于频繁，请一分钟后再试。"))
        status = 429
    elif request.method == "POST" and form.is_valid():
        try:
            result = selectors.progress_query(form.cleaned_data["number"], form.cleaned_data["id_last4"])
        except YiwangError as exc:
            form.show_error(exc)
            status = exc.status
    return render(request, "portal/cases/progress.html", {"form": form, "result": result}, status=status)
