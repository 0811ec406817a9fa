from django.urls import path
from ninja import NinjaAPI

from tastemaker import __version__

from . import errors, oauth
from .analytics import router as analytics_router
from .discovery import router as discovery_router
from .mastodon import router as mastodon_router
from .parser import MastodonParser

api = NinjaAPI(
    title="Tastemaker API",
    version=__version__,
    description=(
        "The Mastodon client API subset for the social core (so existing Mastodon apps and libraries work), "
        "plus Tastemaker's own endpoints. Errors always come as `{\"error\": \"…\"}`. Authenticate with "
        "`Authorization: Bearer <token>` from `/oauth/token`."
    ),
    parser=MastodonParser(),
    urls_namespace="api",
)
errors.install(api)
api.add_router("/", mastodon_router)
api.add_router("/", discovery_router)
api.add_router("/", analytics_router)

urlpatterns = [
    path("api/", api.urls),
    *oauth.urlpatterns,
]
