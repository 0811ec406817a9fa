"""Product metadata from a product page: title, description, images, price, stock, brand, SKU.

extruct reads the page's structured data; this module only chooses among what it found:
schema.org Product in JSON-LD (top level, lists, ``@graph``, ``@id`` references, ProductGroup with its
first variant) first, then microdata, then Open Graph (``og:*`` and ``product:*``). A field the first
source lacks is filled from the next. Prices become integer minor units through core.money (never a
float: a JSON number extruct hands back as a float goes through its shortest ``repr``, which is the
decimal the page wrote); the currency is reported as found, accepted by this instance or not.

``import_product(url)`` fetches through core.fetch (the one guard); ``extract_product`` takes the HTML.
"""

from __future__ import annotations

import logging
import math
import re
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urljoin, urlsplit

import extruct
import lxml.etree
from django.utils.translation import gettext as _
from w3lib.encoding import html_to_unicode  # extruct's own dependency: BOM, header and <meta> charset

from tastemaker.core.errors import ValidationFailed
from tastemaker.core.fetch import FetchRefused, check_public_url, fetch
from tastemaker.core.money import parse_amount

log = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_IMAGES = 9
HTML_TYPES = ("text/html", "application/xhtml+xml")
PRODUCT_TYPES = frozenset({"product", "productgroup", "productmodel", "individualproduct", "someproducts"})
OG_PRODUCT_TYPES = frozenset({"product", "product.item", "product.group", "og:product"})
CURRENCY_ALIASES = {"RMB": "CNY"}  # what Chinese shops often write
IN_STOCK = frozenset({"instock", "in stock", "limitedavailability", "onlineonly", "instoreonly",
                      "available for order"})
OUT_OF_STOCK = frozenset({"outofstock", "out of stock", "oos", "soldout", "discontinued"})

_SPACE_RE = re.compile(r"\s+")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_NUMBER_RE = re.compile(r"^\d+(?:[.,]\d+)*$")
# a currency sign or code may stand before or after the number; a range ("10-20", "10~20") is no price
_PRICE_TEXT_RE = re.compile(r"[^\d\-~]*?(\d(?:[\d.,'’\s]*\d)?)[^\d\-~]*")
_GROUPED_COMMA_RE = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_GROUPED_DOT_RE = re.compile(r"^\d{1,3}(?:\.\d{3}){2,}$")


@dataclass
class ProductDraft:
    url: str  # canonical product URL, absolute
    title: str = ""
    description: str = ""
    images: list[str] = field(default_factory=list)  # absolute http(s), deduplicated, at most 9
    price: int | None = None  # minor units of ``currency``
    currency: str = ""  # ISO 4217 as found, upper case; not necessarily one this instance accepts
    in_stock: bool | None = None
    brand: str = ""
    sku: str = ""
    source: str = ""  # "json-ld" | "microdata" | "opengraph": where the product itself was found


# --- small readers ------------------------------------------------------------------------------


def _short_type(value) -> set[str]:
    types = value if isinstance(value, list) else [value]
    return {str(t).rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower() for t in types if t}


def _first(value):
    """The first non-empty item of a list, or the value itself."""
    if isinstance(value, list):
        return next((v for v in value if v not in (None, "", [], {})), None)
    return value


def _text(value) -> str:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
        value = _first(value)
    if value is None or isinstance(value, dict | list | bool):
        return ""
    return _SPACE_RE.sub(" ", str(value)).strip()


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip()


def _decimal(value) -> Decimal | None:
    """A price as pages write it: 1299, 1299.0 (a JSON float), "1299.00", "1,299.00", "1.299,00", "¥ 1 299"."""
    value = _first(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return Decimal(repr(value))  # the shortest repr is the decimal the JSON had, not the binary value
    match = _PRICE_TEXT_RE.fullmatch(str(value).strip())
    if not match:
        return None
    text = re.sub(r"['’\s]", "", match.group(1))  # digit grouping with spaces, NBSP, apostrophes
    if not _NUMBER_RE.match(text):
        return None
    if "," in text and "." in text:  # the later one separates the decimals
        thousands = "," if text.rfind(".") > text.rfind(",") else "."
        text = text.replace(thousands, "")
    elif _GROUPED_COMMA_RE.match(text) or _GROUPED_DOT_RE.match(text):  # "1,299", "1.299.000": thousands
        text = text.replace(",", "").replace(".", "")
    if text.count(",") + text.count(".") > 1:
        return None
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def _currency(value) -> str:
    code = _text(value).upper()
    code = CURRENCY_ALIASES.get(code, code)
    return code if _CURRENCY_RE.match(code) else ""


def _price(amount, currency: str) -> int | None:
    value = _decimal(amount)
    if value is None or not currency:
        return None
    try:
        return parse_amount(value, currency, field="price")
    except ValidationFailed:
        return None


def _availability(value) -> bool | None:
    words = _short_type(_first(value)) if _first(value) else set()
    for word in words:
        if word in IN_STOCK:
            return True
        if word in OUT_OF_STOCK:
            return False
    return None


def _absolute_http(value: str, base: str) -> str | None:
    """``value`` resolved against ``base``, if it is an http(s) URL that passes the static fetch checks."""
    try:
        absolute = urljoin(base, value.strip())
        if urlsplit(absolute).scheme.lower() not in ("http", "https"):
            return None
        return check_public_url(absolute)
    except (ValueError, FetchRefused):
        return None


def _image_urls(value) -> list[str]:
    items = value if isinstance(value, list) else [value]
    urls = []
    for item in items:
        if isinstance(item, dict):  # ImageObject
            item = _first(item.get("contentUrl") or item.get("url") or item.get("@id"))
        if isinstance(item, str) and item.strip():
            urls.append(item)
    return urls


# --- the sources --------------------------------------------------------------------------------


@dataclass
class _Found:
    source: str
    url: str = ""
    title: str = ""
    description: str = ""
    images: list[str] = field(default_factory=list)
    amount: object = None
    currency: str = ""
    in_stock: bool | None = None
    brand: str = ""
    sku: str = ""


def _walk(value):
    """Every dict in a JSON-LD tree, breadth first (the page's main entity before the nodes it mentions)."""
    queue = deque([value])
    while queue:
        node = queue.popleft()
        if isinstance(node, list):
            queue.extend(node)
        elif isinstance(node, dict):
            yield node
            queue.extend(v for k, v in node.items() if k != "@context")


def _deref(value, ids: dict):
    """A bare {"@id": ...} reference replaced by the node it names, if the page has it."""
    if isinstance(value, dict) and set(value) == {"@id"}:
        return ids.get(value["@id"], value)
    if isinstance(value, list):
        return [ids.get(v["@id"], v) if isinstance(v, dict) and set(v) == {"@id"} else v for v in value]
    return value


def _offer_prices(offers, ids: dict, depth: int = 0) -> list[tuple[object, str, bool | None]]:
    """(amount, currency, in stock) of each offer: Offer, a list of them, AggregateOffer (lowPrice), an
    offer's priceSpecification. ``depth`` ends offers that list themselves (by @id) or nest without end."""
    result: list[tuple[object, str, bool | None]] = []
    if depth > 2:
        return result
    for offer in offers if isinstance(offers, list) else [offers]:
        offer = _deref(offer, ids)
        if not isinstance(offer, dict):
            continue
        stock = _availability(offer.get("availability"))
        currency = _currency(offer.get("priceCurrency"))
        amount = offer.get("lowPrice") if "aggregateoffer" in _short_type(offer.get("@type")) else None
        if amount in (None, ""):
            amount = offer.get("price")
        if amount in (None, ""):
            spec = _first(_deref(offer.get("priceSpecification"), ids))
            if isinstance(spec, dict):
                amount = spec.get("price") or spec.get("minPrice")
                currency = currency or _currency(spec.get("priceCurrency"))
        if amount in (None, "") and offer.get("offers"):  # an AggregateOffer listing its offers
            inner = _offer_prices(offer["offers"], ids, depth + 1)
            result.extend((a, c or currency, s if s is not None else stock) for a, c, s in inner)
            continue
        result.append((amount, currency, stock))
    return result


def _from_schema(product: dict, source: str, ids: dict) -> _Found:
    found = _Found(source)
    variant = None
    if "productgroup" in _short_type(product.get("@type")):
        variant = _first(_deref(product.get("hasVariant"), ids))
        variant = variant if isinstance(variant, dict) else None
    layers = [product] + ([variant] if variant else [])

    def pick(key):
        for layer in layers:
            value = _deref(layer.get(key), ids)
            if value not in (None, "", [], {}):
                return value
        return None

    url = _first(pick("url"))
    found.url = url.strip() if isinstance(url, str) else ""
    found.title = _text(pick("name"))
    found.description = _text(pick("description"))
    found.images = _image_urls(pick("image"))
    found.brand = _text(_deref(pick("brand"), ids))
    found.sku = _text(pick("sku"))
    offers = [row for layer in layers if layer.get("offers") for row in _offer_prices(layer["offers"], ids)]
    priced = [(a, c) for a, c, _s in offers if _decimal(a) is not None and c]
    if priced:
        currency = priced[0][1]
        found.currency = currency
        found.amount = min((_decimal(a) for a, c in priced if c == currency))
    else:
        found.currency = next((c for _a, c, _s in offers if c), "")
    stocks = [s for _a, _c, s in offers if s is not None]
    if stocks:
        found.in_stock = any(stocks)
    return found


def _from_opengraph(og: dict) -> _Found | None:
    og_type = _text(og.get("og:type") or og.get("@type")).lower()
    if og_type not in OG_PRODUCT_TYPES and not any(k.startswith("product:") for k in og):
        return None
    found = _Found("opengraph")
    found.url = _text(og.get("og:url"))
    found.title = _text(og.get("og:title"))
    found.description = _text(og.get("og:description"))
    found.images = _image_urls(og.get("og:image") or og.get("og:image:url") or og.get("og:image:secure_url"))
    found.amount = _first(og.get("product:price:amount") or og.get("og:price:amount"))
    found.currency = _currency(og.get("product:price:currency") or og.get("og:price:currency"))
    found.in_stock = _availability(og.get("product:availability") or og.get("og:availability"))
    found.brand = _text(og.get("product:brand"))
    found.sku = _text(og.get("product:retailer_item_id"))
    return found


def _og_extras(og: dict) -> _Found:
    """The page-level Open Graph tags of a page that is no product itself: only to fill gaps."""
    found = _Found("opengraph")
    found.url = _text(og.get("og:url"))
    found.title = _text(og.get("og:title"))
    found.description = _text(og.get("og:description"))
    found.images = _image_urls(og.get("og:image"))
    return found


def _parse(html: bytes | str, encoding: str | None) -> dict:
    if isinstance(html, bytes):
        content_type = f"text/html; charset={encoding}" if encoding else None
        _enc, html = html_to_unicode(content_type, html)
    if not html.strip():
        return {}
    try:
        # opengraph with_og_array keeps every og:image (uniform output otherwise keeps the first only)
        return extruct.extract(
            html.encode("utf-8"), encoding="UTF-8", syntaxes=["json-ld", "microdata", "opengraph"],
            uniform=True, with_og_array=True, errors="ignore",
        )
    except (lxml.etree.LxmlError, ValueError, TypeError, LookupError):  # a document lxml cannot read at all
        return {}


def _sources(data: dict) -> list[_Found]:
    found: list[_Found] = []
    jsonld = data.get("json-ld") or []
    ids = {node["@id"]: node for node in _walk(jsonld) if isinstance(node.get("@id"), str) and len(node) > 1}
    product = next((n for n in _walk(jsonld) if _short_type(n.get("@type")) & PRODUCT_TYPES), None)
    if product is not None:
        found.append(_from_schema(product, "json-ld", ids))
    micro = data.get("microdata") or []
    product = next((n for n in _walk(micro) if _short_type(n.get("@type")) & PRODUCT_TYPES), None)
    if product is not None:
        found.append(_from_schema(product, "microdata", {}))
    for og in data.get("opengraph") or []:
        og_found = _from_opengraph(og)
        if og_found is not None:
            found.append(og_found)
        elif found:
            found.append(_og_extras(og))
        break
    return found


def _same_site(a: str, b: str) -> bool:
    """The canonical URL may move within the shop ("m.", "www.") but not to another host."""

    def bare(url):
        host = urlsplit(url).hostname or ""
        return host.removeprefix("www.").removeprefix("m.")

    return bare(a) == bare(b)


def extract_product(html: bytes | str, url: str, *, encoding: str | None = None) -> ProductDraft:
    """The product described by the page at ``url``; ValidationFailed when it describes none.

    ``encoding`` is the charset the server declared, for bytes (else BOM and <meta> decide, then UTF-8).
    """
    page_url = check_public_url(url)
    sources = _sources(_parse(html, encoding))
    if not sources:
        raise ValidationFailed(
            _("No product information was found on this page (it has no schema.org Product and no Open "
              "Graph product tags)."),
            field="url",
        )
    draft = ProductDraft(url=page_url, source=sources[0].source)
    # og:url first, then the schema.org url; it must stay on the fetched site, else the fetched URL stands
    canonical = next((s.url for s in sorted(sources, key=lambda s: s.source != "opengraph") if s.url), "")
    if canonical:
        absolute = _absolute_http(canonical, page_url)
        if absolute and _same_site(absolute, page_url):
            draft.url = absolute
    for name, limit in (("title", MAX_TITLE), ("description", MAX_DESCRIPTION), ("brand", 200), ("sku", 100)):
        value = next((getattr(s, name) for s in sources if getattr(s, name)), "")
        setattr(draft, name, _cap(value, limit))
    for source in sources:  # price and currency travel together, from the first source that has both
        price = _price(source.amount, source.currency)
        if price is not None:
            draft.price, draft.currency = price, source.currency
            break
    if not draft.currency:
        draft.currency = next((s.currency for s in sources if s.currency), "")
    draft.in_stock = next((s.in_stock for s in sources if s.in_stock is not None), None)
    images: list[str] = []
    for source in sources:
        for image in source.images:
            absolute = _absolute_http(image, page_url)
            if absolute and absolute not in images:
                images.append(absolute)
    draft.images = images[:MAX_IMAGES]
    return draft


def import_product(url: str) -> ProductDraft:
    """Fetch the page through the guard (core.fetch) and read its product; FetchRefused or ValidationFailed.

    A page that breaks the reader in a way nobody foresaw is the page's problem: ValidationFailed on ``url``
    (422 in the API, a message at the field on the composer), never a 500. The web and the API both rely on it."""
    try:
        result = fetch(url, accept="text/html,application/xhtml+xml", allowed_types=HTML_TYPES)
        return extract_product(result.body, result.url, encoding=result.charset)
    except ValidationFailed:
        raise
    except Exception:  # noqa: BLE001 - see above
        log.exception("product import failed for a page")
        raise ValidationFailed(_("The page could not be read as a product page."), field="url") from None
