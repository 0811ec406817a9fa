"""Template helpers of the fan service (issue 14): whether the viewer subscribes to an account's messages."""

from __future__ import annotations

from django import template

from tastemaker.fanservice import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def service_subscribed(context, account) -> bool:
    user = context.get("user")
    if user is None or not user.is_authenticated or user.pk == account.pk:
        return False
    return selectors.is_subscribed(user, account)
