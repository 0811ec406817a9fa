from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data (``tastemaker seed-demo``): the top floor, beside ``api`` and ``web``; it may use every
    domain app and none may use it."""

    name = "tastemaker.demo"
    label = "demo"
