from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tastemaker.core"
    label = "core"
