from django.apps import AppConfig


class PromotionConfig(AppConfig):
    name = "tastemaker.promotion"
    label = "promotion"
    default_auto_field = "django.db.models.BigAutoField"
