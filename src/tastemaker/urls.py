from django.contrib import admin
from django.urls import include, path

from tastemaker.api.urls import urlpatterns as api_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    *api_urls,
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tastemaker.web.urls")),
]
