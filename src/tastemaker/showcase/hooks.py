"""Showcase's hook points (``core.hooks``): the apps above showcase react to these; showcase imports none of
them. The consumers are listed in ``settings.HOOKS``."""

from tastemaker.core.hooks import HookPoint

product_changed = HookPoint(
    "showcase.product_changed",
    "product=, offer=, old_price= (minor units or None), was_in_stock= (bool): a store's catalog update changed "
    "an existing offer's price or stock (inside the update's transaction; called only when the price fell or "
    "the offer came back in stock).")
