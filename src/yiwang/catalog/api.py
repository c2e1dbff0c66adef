"""REST endpoints of the catalog app (mounted under /api/)."""

urlpatterns: list = []
