"""REST endpoints of the licences app (mounted under /api/)."""

urlpatterns: list = []
