from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tastemaker.accounts"
    label = "accounts"
