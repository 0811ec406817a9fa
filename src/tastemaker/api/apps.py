from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "tastemaker.api"
    label = "api"
