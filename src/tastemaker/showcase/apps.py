from django.apps import AppConfig


class ShowcaseConfig(AppConfig):
    name = "tastemaker.showcase"
    label = "showcase"
    default_auto_field = "django.db.models.BigAutoField"
