"""``fixture_server``: a real HTTP server on 127.0.0.1 that core.fetch may reach (tests/fetchserver.py)."""

from fetchserver import fixture_server

__all__ = ["fixture_server"]
