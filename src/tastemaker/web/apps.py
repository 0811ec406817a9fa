from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "tastemaker.web"
    label = "web"
