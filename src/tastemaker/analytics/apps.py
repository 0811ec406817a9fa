from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "tastemaker.analytics"
    label = "analytics"
