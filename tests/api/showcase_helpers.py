"""What the Showcase API tests share: a partner store's side of Standard Webhooks, and a product page.

(tests/showcase/conftest.py's fixtures are only visible under tests/showcase; these few lines are copied.)
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

REASON = "I have used it every night for a month and my dry skin finally stopped flaking."


class StoreSigner:
    """What a partner store does: sign a JSON body per Standard Webhooks with its secret."""

    def __init__(self, secret: str):
        self.hook = Webhook(secret)

    def deliver(self, event_type: str, data: dict, *, msg_id: str | None = None, at: float | None = None,
                body: str | None = None) -> tuple[bytes, dict]:
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        at = time.time() if at is None else at
        body = body if body is not None else json.dumps({"type": event_type, "data": data})
        signature = self.hook.sign(msg_id, datetime.fromtimestamp(at, tz=UTC), body)
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(at)), "webhook-signature": signature}
        return body.encode(), headers


def product_page(url: str = "https://shop.example.com/p/cream-1") -> str:
    """A product page with schema.org Product / Offer in JSON-LD."""
    data = {"@context": "https://schema.org", "@type": "Product", "name": "Hydrating face cream",
            "description": "A rich night cream for dry skin.", "image": ["https://img.shop.example.com/cream.jpg"],
            "brand": {"@type": "Brand", "name": "Good Skin"}, "sku": "CREAM-1", "url": url,
            "offers": {"@type": "Offer", "price": "129.00", "priceCurrency": "CNY",
                       "availability": "https://schema.org/InStock"}}
    return (f'<!doctype html><html><head><title>Cream</title><script type="application/ld+json">{json.dumps(data)}'
            "</script></head><body><h1>Hydrating face cream</h1></body></html>")
