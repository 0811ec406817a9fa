from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "tastemaker.trust"
    label = "trust"
