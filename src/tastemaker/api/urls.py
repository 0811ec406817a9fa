from django.urls import path
from ninja import NinjaAPI

from tastemaker import __version__

from . import errors, oauth
from .analytics import router as analytics_router
from .discovery import router as discovery_router
from .fanservice import router as fanservice_router
from .mastodon import router as mastodon_router
from .moderation import router as moderation_router
from .parser import MastodonParser
from .payments import router as payments_router
from .promotion import router as promotion_router
from .showcase import router as showcase_router


class TastemakerAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        """Named after the API area (``tastemaker.api.<area>``) and the handler, not the file the handler is
        in: operation ids stay the same when a handler moves between an area's resource modules."""
        area = operation.view_func.__module__.split(".")[:3]
        return "_".join([*area, operation.view_func.__name__])


api = TastemakerAPI(
    title="Tastemaker API",
    version=__version__,
    description=(
        "The Mastodon client API subset for the social core (so existing Mastodon apps and libraries work), "
        "plus Tastemaker's own endpoints. Errors always come as `{\"error\": \"…\"}`. Authenticate with "
        "`Authorization: Bearer <token>` from `/oauth/token`.\n\n"
        "Showcase (橱窗): a status with a product card carries it as Mastodon's `card` (url: the tracked "
        "purchase link `/go/<token>`; description: the recommendation reason) and in full as the extension "
        "`tastemaker_card` (schema `ShowcaseCard`: every store's price and stock, the disclosure label). Money "
        "is integer minor units (fen, cents) with a currency, never a float. Partner stores call "
        "`/api/v1/showcase/...` with their API key, or sign webhooks per Standard Webhooks."
    ),
    parser=MastodonParser(),
    urls_namespace="api",
)
errors.install(api)
api.add_router("/", mastodon_router)
api.add_router("/", discovery_router)
api.add_router("/", analytics_router)
api.add_router("/", showcase_router)
api.add_router("/", payments_router)
api.add_router("/", moderation_router)
api.add_router("/", promotion_router)
api.add_router("/", fanservice_router)

urlpatterns = [
    path("api/", api.urls),
    *oauth.urlpatterns,
]
