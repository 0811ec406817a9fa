"""The streaming server: ``uvicorn tastemaker.asgi:application`` (``tastemaker serve`` starts it on
``--stream-port``). It serves Mastodon's streaming API (``/api/v1/streaming``, api/streaming.py) on an event loop,
so thousands of open streams cost no web worker; any other path goes to Django's ASGI handler (the same site,
for a proxy that sends everything here)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tastemaker.settings")
django_application = get_asgi_application()

from tastemaker.api.streaming_asgi import StreamingApp  # noqa: E402  (after Django is set up)

application = StreamingApp(django_application)
