from yiwang.portal.views import account, cases, catalog, licences

app_name = "portal"

urlpatterns = account.urlpatterns + catalog.urlpatterns + cases.urlpatterns + licences.urlpatterns
