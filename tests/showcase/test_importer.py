"""showcase.importer: product metadata from real product-page fixtures (tests/showcase/fixtures/), and one
import end to end through core.fetch against a loopback server. No database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fetchserver import FixtureServer
from tastemaker.core.errors import ValidationFailed
from tastemaker.core.fetch import FetchRefused
from tastemaker.showcase.importer import ProductDraft, extract_product, import_product

FIXTURES = Path(__file__).parent / "fixtures"
PAGE = "https://shop.example.com/p/item/page?ref=feed"


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def page_server():
    """The fixture pages over real HTTP, reachable through core.fetch for this test."""
    with FixtureServer(root=FIXTURES) as server, server.allowed():
        yield server


def test_json_ld_product():
    assert extract_product(page("jsonld_product.html"), PAGE) == ProductDraft(
        url="https://shop.example.com/p/puer-357",
        title="云南古树普洱茶 357g 饼茶",
        description="2019 年春茶， 古树原料。 口感醇厚。",
        images=["https://img.shop.example.com/puer/1.jpg", "https://img.shop.example.com/puer/2.jpg"],
        price=129900,
        currency="CNY",
        in_stock=True,
        brand="茶山记",
        sku="PUER-357-2019",
        source="json-ld",
    )


def test_json_ld_graph_with_references_and_aggregate_offer():
    draft = extract_product(page("jsonld_graph_aggregate.html"), PAGE)
    assert draft == ProductDraft(
        url=PAGE,
        title="Trail Runner 3",
        description="Light trail shoe.",
        images=["https://img.shop.example.com/trail.jpg"],
        price=8950,  # lowPrice 89.5, a JSON number: 8950 cents exactly
        currency="USD",  # reported as found; this instance accepts CNY only, the caller decides
        in_stock=False,
        brand="Good Shop",  # the brand is an @id reference to the Organization node
        sku="",
        source="json-ld",
    )
    assert type(draft.price) is int


def test_microdata_product():
    assert extract_product(page("microdata_product.html"), PAGE) == ProductDraft(
        url=PAGE,
        title="Hand-thrown ceramic mug",
        description="Glazed stoneware, 350 ml.",
        images=["https://shop.example.com/img/mug-front.jpg", "https://img.shop.example.com/mug-side.jpg"],
        price=2490,  # "24,90": a decimal comma
        currency="EUR",
        in_stock=True,  # LimitedAvailability
        brand="Kiln & Co",
        sku="MUG-350",
        source="microdata",
    )


def test_open_graph_product():
    assert extract_product(page("opengraph_product.html"), PAGE) == ProductDraft(
        url="https://www.shop.example.com/p/linen-shirt",  # og:url on the same shop
        title="Linen shirt, sand",
        description="Washed linen, relaxed fit.",
        images=["https://img.shop.example.com/linen-1.jpg", "https://img.shop.example.com/linen-2.jpg"],
        price=1299,  # "1,299.00" yen: thousands separator; JPY has no minor unit
        currency="JPY",
        in_stock=False,
        brand="Field Studio",
        sku="LS-SAND-M",
        source="opengraph",
    )


def test_mixed_sources_fill_each_others_gaps():
    assert extract_product(page("mixed.html"), PAGE) == ProductDraft(
        url=PAGE,  # og:url points at another site: the fetched URL stands
        title="Desk lamp",  # JSON-LD wins over microdata and og:title
        description="Warm light, dimmable.",  # from microdata
        images=["https://img.shop.example.com/lamp.jpg"],  # JSON-LD has none: og:image
        price=4500,  # the lower of the two offers
        currency="CNY",
        in_stock=True,  # one of the offers is in stock
        brand="",
        sku="LAMP-1",  # from microdata
        source="json-ld",
    )


def test_relative_image_urls_become_absolute():
    draft = extract_product(page("relative_image.html"), PAGE)
    assert draft.images == [
        "https://shop.example.com/p/img/tote.jpg",
        "https://shop.example.com/img/tote-2.jpg",
        "https://cdn.example.com/tote-3.jpg",
    ]
    assert (draft.price, draft.currency, draft.in_stock) == (7900, "CNY", None)


def test_javascript_data_and_internal_image_urls_are_dropped_and_a_bad_price_is_none():
    draft = extract_product(page("javascript_image.html"), PAGE)
    assert draft.images == ["https://img.shop.example.com/scarf.jpg"]
    assert (draft.title, draft.price, draft.currency, draft.in_stock) == ("Scarf", None, "CNY", True)


def test_product_group_uses_its_first_variant():
    draft = extract_product(page("product_group.html"), PAGE)
    assert (draft.title, draft.sku, draft.price, draft.currency, draft.in_stock) == (
        "Wool socks", "SOCK-S", 3900, "CNY", True)
    assert draft.images == ["https://img.shop.example.com/sock-s.jpg"]


def test_a_page_without_a_product_is_a_clear_error():
    with pytest.raises(ValidationFailed, match="No product information was found on this page") as err:
        extract_product(page("no_product.html"), PAGE)
    assert err.value.field == "url"
    for html in (b"", "   ", "<html><body><p>hello</p></body></html>", b"\x00\xff\xfe garbage", "<<<>>>"):
        with pytest.raises(ValidationFailed, match="No product information"):
            extract_product(html, PAGE)


def jsonld_page(product: dict) -> str:
    return ('<html><head><script type="application/ld+json">'
            + json.dumps({"@context": "https://schema.org", "@type": "Product", **product}, ensure_ascii=False)
            + "</script></head><body></body></html>")


@pytest.mark.parametrize(
    ("raw", "currency", "expected"),
    [
        ('"1299.00"', "CNY", 129900),
        ("1299.00", "CNY", 129900),  # a JSON number: extruct gives a float, never used as one
        ("19.99", "CNY", 1999),
        ("0.1", "USD", 10),
        ('"1,299.00"', "USD", 129900),
        ('"1.299,00"', "EUR", 129900),
        ('"1,299"', "USD", 129900),
        ('"12,50"', "EUR", 1250),
        ('"¥1 299.50"', "CNY", 129950),
        ('"1299元"', "CNY", 129900),
        ("1500", "JPY", 1500),
        ('"1.250"', "KWD", 1250),  # three decimals
        ('"0"', "CNY", 0),
        ('"19.999"', "CNY", None),  # more decimals than fen: not a CNY price
        ('"10-20"', "CNY", None),
        ('"call us"', "CNY", None),
        ('"-5"', "CNY", None),
        ('"1299.00"', "", None),  # a price without a currency means nothing
        ("1e30", "CNY", None),  # beyond any price
    ],
)
def test_prices_are_exact_minor_units(raw, currency, expected):
    html = jsonld_page({"name": "X"}).replace(
        '"name": "X"', f'"name": "X", "offers": {{"@type": "Offer", "price": {raw}, "priceCurrency": "{currency}"}}'
    )
    draft = extract_product(html, PAGE)
    assert draft.price == expected
    assert draft.price is None or type(draft.price) is int


@pytest.mark.parametrize(
    ("availability", "expected"),
    [("https://schema.org/InStock", True), ("http://schema.org/OutOfStock", False), ("InStock", True),
     ("schema:SoldOut", False), ("https://schema.org/Discontinued", False), ("https://schema.org/PreOrder", None),
     ("", None)],
)
def test_availability(availability, expected):
    html = jsonld_page({"name": "X", "offers": {"@type": "Offer", "availability": availability}})
    assert extract_product(html, PAGE).in_stock is expected


def test_currency_alias_and_case():
    html = jsonld_page({"name": "X", "offers": {"price": "8.80", "priceCurrency": "rmb"}})
    assert (extract_product(html, PAGE).price, extract_product(html, PAGE).currency) == (880, "CNY")


def test_caps_whitespace_and_image_limit():
    images = [f"https://img.example.com/{i}.jpg" for i in range(12)] + ["https://img.example.com/0.jpg"]
    html = jsonld_page({"name": "长" * 150 + "  \n " + "x" * 150, "description": "word " * 1000, "image": images})
    draft = extract_product(html, PAGE)
    assert draft.title == "长" * 150 + " " + "x" * 49
    assert len(draft.description) <= 2000 and draft.description.startswith("word word")
    assert draft.images == images[:9]


def test_image_objects_and_lists():
    html = jsonld_page({"name": "X", "image": [
        {"@type": "ImageObject", "contentUrl": "https://img.example.com/a.jpg"},
        {"@type": "ImageObject", "url": "/b.jpg"},
        "c.jpg",
    ]})
    assert extract_product(html, PAGE).images == [
        "https://img.example.com/a.jpg", "https://shop.example.com/b.jpg", "https://shop.example.com/p/item/c.jpg"]


def test_legacy_chinese_encodings():
    body = jsonld_page({"name": "铁观音 250g", "offers": {"price": "88", "priceCurrency": "CNY"}})
    with_meta = body.replace("<head>", '<head><meta charset="gbk">').encode("gbk")
    assert extract_product(with_meta, PAGE).title == "铁观音 250g"
    declared = body.encode("gb18030")  # no <meta>: the charset the server declared decides
    assert extract_product(declared, PAGE, encoding="gb18030").title == "铁观音 250g"


def test_the_page_url_itself_goes_through_the_guard():
    with pytest.raises(FetchRefused):
        extract_product(page("jsonld_product.html"), "http://169.254.169.254/latest/")


# --- end to end: fetched through the guard -------------------------------------------------------


def test_import_product_over_http(page_server):
    draft = import_product(page_server.url("/jsonld_product.html"))
    assert draft == ProductDraft(
        url=page_server.url("/jsonld_product.html"),  # the page's og/schema URL is on another host
        title="云南古树普洱茶 357g 饼茶",
        description="2019 年春茶， 古树原料。 口感醇厚。",
        images=["https://img.shop.example.com/puer/1.jpg", "https://img.shop.example.com/puer/2.jpg"],
        price=129900,
        currency="CNY",
        in_stock=True,
        brand="茶山记",
        sku="PUER-357-2019",
        source="json-ld",
    )
    assert page_server.requests[-1].headers["accept"] == "text/html,application/xhtml+xml"


def test_import_product_refuses_what_the_guard_refuses(page_server):
    page_server.redirect("/go", "http://169.254.169.254/latest/meta-data/")
    page_server.respond("/photo", b"\xff\xd8\xff", content_type="image/jpeg")
    with pytest.raises(FetchRefused, match="private, local or reserved"):
        import_product(page_server.url("/go"))
    with pytest.raises(FetchRefused, match="image/jpeg"):
        import_product(page_server.url("/photo"))
    with pytest.raises(FetchRefused, match="HTTP status 404"):
        import_product(page_server.url("/missing.html"))
    with pytest.raises(ValidationFailed, match="No product information"):
        import_product(page_server.url("/no_product.html"))


def test_hostile_structures_end():
    cyclic = {"@context": "https://schema.org", "@graph": [
        {"@type": "Product", "name": "Loop", "offers": {"@id": "#o"}},
        {"@id": "#o", "@type": "AggregateOffer", "offers": {"@id": "#o"}, "priceCurrency": "CNY"},
    ]}
    html = f'<script type="application/ld+json">{json.dumps(cyclic)}</script>'
    assert extract_product(html, PAGE).title == "Loop"
    deep = {"@type": "Product", "name": "Deep", "offers": {"@type": "AggregateOffer"}}
    node = deep["offers"]
    for _ in range(400):
        node["offers"] = {"@type": "AggregateOffer"}
        node = node["offers"]
    html = f'<script type="application/ld+json">{json.dumps(deep)}</script>'
    assert extract_product(html, PAGE).price is None
