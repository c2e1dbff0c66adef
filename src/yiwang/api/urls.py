"""The REST API: each app contributes its routes in ``<app>/api.py`` (``urlpatterns``)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from yiwang.api.errors import unknown_endpoint

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # the Swagger UI with its init script as a file of its own (?script): the CSP allows no inline script.
    # No ReDoc page: it loads web fonts from the internet and injects inline styles.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    path("", include("yiwang.catalog.api")),
    path("", include("yiwang.cases.api")),
    path("", include("yiwang.licences.api")),
    # last: anything else under /api/ is a JSON 404 (with DEBUG=1 too), not the HTML page
    re_path(r"", unknown_endpoint, name="api-unknown"),
]
