from django.contrib import admin
from django.urls import include, path

from tastemaker.api.urls import urlpatterns as api_urls
from tastemaker.web.views import set_language

urlpatterns = [
    path("admin/", admin.site.urls),
    *api_urls,
    path("i18n/setlang/", set_language, name="set_language"),  # Django's, and a logged-in user's profile too
    path("", include("tastemaker.web.urls")),
]
