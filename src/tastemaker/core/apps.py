from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tastemaker.core"
    label = "core"

    def ready(self) -> None:
        # every app's hook points (``<app>/hooks.py``), then settings.HOOKS checked against them (core.hooks)
        from django.utils.module_loading import autodiscover_modules

        from .hooks import check_settings

        autodiscover_modules("hooks")
        check_settings()
