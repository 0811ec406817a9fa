"""Named hook points: how a lower app tells the apps above it that something happened, without importing them.

An app declares its hook points (``social/hooks.py``: ``post_created = HookPoint("social.post_created")``)
and calls them where the thing happens (``hooks.post_created(post=post)``). The consumers are not
registered in code: they are listed, in order, in ``settings.HOOKS`` as dotted paths::

    HOOKS = {
        "social.post_created": ["tastemaker.feeds.hooks.post_created"],
        "social.followed": ["tastemaker.feeds.hooks.followed", "tastemaker.analytics.hooks.followed"],
    }

so one page says who reacts to what, the call stays a plain synchronous call (same transaction, same
order, no extra queries: a consumer that wants to wait for the commit uses ``transaction.on_commit``), and
the import graph keeps pointing downwards (``feeds`` imports ``social``, never the reverse). No Django
signals: their receivers are found by import side effects, which is what this replaces.

A hook point without consumers does nothing. An unknown hook name in ``settings.HOOKS`` and a consumer that
cannot be imported are start-up errors (``check_settings``, run by ``CoreConfig.ready``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

_declared: dict[str, HookPoint] = {}
_resolved: dict[str, Callable[..., Any]] = {}


class HookPoint:
    """One named point. Calling it calls each consumer listed for it in ``settings.HOOKS`` with the same
    keyword arguments, in the listed order, and returns their results (in that order)."""

    def __init__(self, name: str, doc: str = "") -> None:
        if name in _declared:
            raise ImproperlyConfigured(f"Hook point {name!r} is declared twice.")
        self.name = name
        self.__doc__ = doc
        _declared[name] = self

    def consumers(self) -> list[Callable[..., Any]]:
        return [_consumer(path) for path in getattr(settings, "HOOKS", {}).get(self.name, ())]

    def __call__(self, **kwargs: Any) -> list[Any]:
        return [consumer(**kwargs) for consumer in self.consumers()]

    def __repr__(self) -> str:
        return f"HookPoint({self.name!r})"


def _consumer(path: str) -> Callable[..., Any]:
    found = _resolved.get(path)
    if found is None:
        try:
            found = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"settings.HOOKS names {path!r}, which cannot be imported: {exc}") from exc
        _resolved[path] = found
    return found


def declared() -> dict[str, HookPoint]:
    """Every hook point declared so far (those of the modules imported)."""
    return dict(_declared)


def check_settings(hooks: dict[str, list[str]] | None = None) -> None:
    """Refuse an unknown hook name or a consumer that cannot be imported (a typo would otherwise silently
    disconnect a consumer). Called once the apps are ready, after every app's ``hooks`` module is imported."""
    hooks = getattr(settings, "HOOKS", {}) if hooks is None else hooks
    for name, paths in hooks.items():
        if name not in _declared:
            known = ", ".join(sorted(_declared)) or "none"
            raise ImproperlyConfigured(f"settings.HOOKS: unknown hook point {name!r} (declared: {known}).")
        for path in paths:
            _consumer(path)
