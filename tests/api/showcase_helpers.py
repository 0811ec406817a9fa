"""What the Showcase API tests share: a partner store's side of Standard Webhooks (tests/showcase_signer.py,
shared with tests/showcase/), and a product page."""

from __future__ import annotations

import json

from showcase_signer import StoreSigner

__all__ = ["StoreSigner", "product_page"]



def product_page(url: str = "https://shop.example.com/p/cream-1") -> str:
    """A product page with schema.org Product / Offer in JSON-LD."""
    data = {"@context": "https://schema.org", "@type": "Product", "name": "Hydrating face cream",
            "description": "A rich night cream for dry skin.", "image": ["https://img.shop.example.com/cream.jpg"],
            "brand": {"@type": "Brand", "name": "Good Skin"}, "sku": "CREAM-1", "url": url,
            "offers": {"@type": "Offer", "price": "129.00", "priceCurrency": "CNY",
                       "availability": "https://schema.org/InStock"}}
    return (f'<!doctype html><html><head><title>Cream</title><script type="application/ld+json">{json.dumps(data)}'
            "</script></head><body><h1>Hydrating face cream</h1></body></html>")
