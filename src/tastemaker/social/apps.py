from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "tastemaker.social"
    label = "social"
