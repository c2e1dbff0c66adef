"""Portal pages for the catalog: home, search, service guide. Thin: they call catalog selectors only."""

from django.shortcuts import render
from django.urls import path


def home(request):
    return render(request, "portal/home.html")


urlpatterns = [path("", home, name="home")]
