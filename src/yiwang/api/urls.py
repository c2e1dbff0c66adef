"""The REST API: each app contributes its routes in ``<app>/api.py`` (``urlpatterns``)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from yiwang.api.errors import unknown_endpoint

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("yiwang.catalog.api")),
    path("", include("yiwang.cases.api")),
    path("", include("yiwang.licences.api")),
    # last: anything else under /api/ is a JSON 404 (with DEBUG=1 too), not the HTML page
    re_path(r"", unknown_endpoint, name="api-unknown"),
]
