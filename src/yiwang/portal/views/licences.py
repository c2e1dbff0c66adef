"""Portal pages for the licences app. Thin: they call yiwang.licences services and selectors only."""

urlpatterns: list = []
