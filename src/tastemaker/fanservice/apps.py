from django.apps import AppConfig


class FanserviceConfig(AppConfig):
    name = "tastemaker.fanservice"
    label = "fanservice"
    default_auto_field = "django.db.models.BigAutoField"
