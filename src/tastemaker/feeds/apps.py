from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "tastemaker.feeds"
    label = "feeds"
