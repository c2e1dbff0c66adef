"""Portal pages for the cases app. Thin: they call yiwang.cases services and selectors only."""

urlpatterns: list = []
