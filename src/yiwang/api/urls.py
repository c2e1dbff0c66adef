"""The REST API: each app contributes its routes in ``<app>/api.py`` (``urlpatterns``)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("yiwang.catalog.api")),
    path("", include("yiwang.cases.api")),
    path("", include("yiwang.licences.api")),
]
