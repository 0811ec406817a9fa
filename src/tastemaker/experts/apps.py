from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExpertsConfig(AppConfig):
    name = "tastemaker.experts"
    verbose_name = _("Experts and ability labels")
    default_auto_field = "django.db.models.BigAutoField"
