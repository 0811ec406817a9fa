"""Product cards: the checks on a card (title, reason, disclosure, price, purchase link on a partner
store) and the showcase post that carries one, with its tracked links to every store that sells it."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from tastemaker.accounts.models import User
from tastemaker.accounts.standing import Feature, require
from tastemaker.core.errors import ValidationFailed
from tastemaker.core.money import MAX_MINOR, check_currency
from tastemaker.social.models import Media, Post

from . import links
from .models import CardLink, Disclosure, Offer, PartnerStore, Product, ProductCard, StoreStatus

log = logging.getLogger(__name__)

TITLE_MAX = 60
TITLE_MIN = 2
REASON_MIN_CHARS = 20  # Latin text: at least a sentence
REASON_MIN_CJK = 8  # Chinese text: at least a short sentence
REASON_MAX = 1000

_SEPARATORS = "|/\\,，、;；+#★☆♥❤✔✅🔥【】[]()（）!！~·•_-—=*"
_SEP_RUN_RE = re.compile("[" + re.escape(_SEPARATORS) + r"]{2,}")
_SEP_RE = re.compile("[" + re.escape(_SEPARATORS) + "]")
_WORD_RE = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]+", re.IGNORECASE)
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
# marketing filler that makes a title a list of search keywords rather than a name
STUFFING_TERMS = {
    "best", "cheap", "cheapest", "sale", "hot", "new", "free", "shipping", "discount", "deal", "deals", "top",
    "bestseller", "trending", "viral", "original", "authentic", "genuine", "official", "2024", "2025", "2026",
    "正品", "包邮", "爆款", "网红", "同款", "特价", "秒杀", "新款", "热卖", "限时", "折扣", "清仓", "官方", "旗舰",
    "推荐", "必买", "爆品", "抢购", "促销", "优惠", "正版", "现货",
}


def _title_tokens(title: str) -> list[str]:
    from tastemaker.core.text import words

    return [t for t in words(title) if _WORD_RE.fullmatch(t)]


def check_title(title) -> str:
    """A card title: short, and a name rather than a run of search keywords. Every refusal says why."""
    title = re.sub(r"\s+", " ", title if isinstance(title, str) else "").strip()
    if len(title) < TITLE_MIN:
        raise ValidationFailed(_("A product card needs a title."), field="title")
    if len(title) > TITLE_MAX:
        raise ValidationFailed(_("The title has %(m)d characters; keep it to %(n)d.") % {"m": len(title), "n": TITLE_MAX},
                               field="title")
    if _SEP_RUN_RE.search(title):
        raise ValidationFailed(_("The title repeats separator characters (like \"||\" or \"★★\"); write the "
                                 "product's name instead."), field="title")
    if len(_SEP_RE.findall(title)) > 3:
        raise ValidationFailed(_("The title uses too many separators (at most 3); write the product's name "
                                 "instead of a list of keywords."), field="title")
    tokens = _title_tokens(title)
    counts: dict[str, int] = {}
    for token in tokens:
        if len(token) >= 2 or _CJK_RE.match(token):
            counts[token] = counts.get(token, 0) + 1
    repeated = sorted((t for t, n in counts.items() if n >= 2 and (len(t) >= 2 or n >= 3)), key=lambda t: -counts[t])
    if repeated:
        raise ValidationFailed(_("The title repeats \"%(word)s\" %(n)d times; say it once.")
                               % {"word": repeated[0], "n": counts[repeated[0]]}, field="title")
    filler = sorted({t for t in tokens if t in STUFFING_TERMS})
    if len(filler) >= 3:
        raise ValidationFailed(_("The title is stuffed with keywords (%(words)s); name the product and put the "
                                 "selling points in the reason.") % {"words": ", ".join(filler[:5])}, field="title")
    segments = [s for s in re.split(r"\s+", title) if s]
    if len(segments) >= 5 and all(_CJK_RE.search(s) and len(s) <= 4 for s in segments):
        raise ValidationFailed(_("The title is a list of keywords separated by spaces; write the product's "
                                 "name instead."), field="title")
    return title


def check_reason(reason) -> str:
    reason = (reason if isinstance(reason, str) else "").replace("\r\n", "\n").strip()
    if not reason:
        raise ValidationFailed(_("Say why you recommend it: the recommendation reason is required."), field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed(_("The reason has at most %(n)d characters.") % {"n": REASON_MAX}, field="reason")
    cjk = len(_CJK_RE.findall(reason))
    words = len(re.findall(r"[A-Za-z]+", reason))
    if cjk < REASON_MIN_CJK and (len(reason) < REASON_MIN_CHARS or words < 4):
        raise ValidationFailed(_("The reason is too short: write at least a full sentence on why you recommend it."),
                               field="reason")
    return reason


@dataclass
class CardInput:
    title: str
    reason: str
    url: str
    disclosure: str
    image_media_id: int | None = None  # an uploaded, unused image of the author
    image_url: str | None = None  # or an image fetched through the guard (import)
    price: int | None = None  # minor units; None: "check the price at the store"
    currency: str | None = None
    stock: int | None = None
    product_id: int | None = None  # a catalog product; its offers become the card's links
    vertical: str | None = None  # a vertical slug; guessed from the text when None


def find_store_for_url(url: str) -> tuple[PartnerStore, str]:
    """The approved partner store whose domains the URL is on, and the URL normalised; else a 422 (saying how
    the link is malformed, or that its domain is no partner store's)."""
    clean, host = links.parse_purchase_url(url)
    for store in PartnerStore.objects.filter(status=StoreStatus.APPROVED).only("id", "name", "domains"):
        if links.host_matches(host, store.domains):
            return store, clean
    raise ValidationFailed(_("The purchase link must go to a partner store; this domain is not one."), field="url")


def _check_card(author: User, data: CardInput) -> dict:
    title = check_title(data.title)
    reason = check_reason(data.reason)
    if data.disclosure not in Disclosure.values:
        raise ValidationFailed(_("Choose a disclosure: own product, affiliate, gifted or paid partnership."),
                               field="disclosure")
    currency = check_currency(data.currency or settings.DEFAULT_CURRENCY)
    price = data.price
    if price is not None and (isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_MINOR):
        raise ValidationFailed(_("The price is a whole number of minor units (fen, cents), 0 or more."),
                               field="price")
    stock = data.stock
    if stock is not None and (isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= 10**9):
        raise ValidationFailed(_("Stock is a whole number, 0 or more."), field="stock")
    store, url = find_store_for_url(data.url)
    product = None
    if data.product_id is not None:
        product = Product.objects.filter(pk=data.product_id).first()
        if product is None:
            raise ValidationFailed(_("That product is not in the catalog."), field="product_id")
    else:
        offer = Offer.objects.select_related("product").filter(store=store, url=url, active=True).first()
        product = offer.product if offer else None
    return {"title": title, "reason": reason, "currency": currency, "price": price, "stock": stock, "store": store,
            "url": url, "product": product}


def _card_image(author: User, data: CardInput) -> dict:
    if data.image_media_id is not None:
        media = Media.objects.filter(pk=data.image_media_id, owner=author, post__isnull=True).first()
        if media is None:
            raise ValidationFailed(_("The card image is unknown, not yours, or already used."), field="image")
        return {"file": media.file, "preview": media.preview, "width": media.width, "height": media.height}
    if data.image_url:
        from tastemaker.core.fetch import fetch
        from tastemaker.images.intake import process_image

        result = fetch(data.image_url, accept="image/*",
                       allowed_types=("image/jpeg", "image/png", "image/gif", "image/webp"),
                       max_bytes=settings.MEDIA_MAX_BYTES)
        return process_image(result.body, user=author)
    raise ValidationFailed(_("A product card needs an image."), field="image")


def _chosen_vertical(slug: str | None):
    """The vertical the creator chose (checked), or None: then the job after commit guesses it."""
    from tastemaker.experts.models import Vertical

    if not slug:
        return None
    vertical = Vertical.objects.filter(slug=slug, active=True).first()
    if vertical is None:
        raise ValidationFailed(_("Unknown vertical: %(slug)s") % {"slug": slug[:40]}, field="vertical")
    return vertical


def do_guess_card_vertical(post_id: int) -> bool:
    """Give a card without a vertical the one its text is about (the job after the card's commit: the
    labeler costs a few milliseconds per post, which no request waits for). True when one was set."""
    from tastemaker.experts.labeler import wait_until_ready, warm_up
    from tastemaker.experts.selectors import vertical_for_text

    card = ProductCard.objects.select_related("post").filter(post_id=post_id, vertical__isnull=True).first()
    if card is None:
        return False
    try:
        warm_up()
        wait_until_ready(60)  # a job may wait for the model (a consumer just started is still loading it)
        vertical = vertical_for_text(f"{card.title} {card.reason} {card.post.text}")
    except Exception:  # noqa: BLE001 - a card does not fail because the labeler failed
        log.exception("labeler unavailable for a card")
        return False
    if vertical is None:
        return False
    return bool(ProductCard.objects.filter(post_id=post_id, vertical__isnull=True).update(vertical=vertical))


def _guess_after_commit(post_id: int) -> None:
    """Queue the vertical's guess (run after commit). An import from cards up to tasks, written in
    .importlinter: the huey job lives in ``tasks`` and calls ``do_guess_card_vertical`` here."""
    from .tasks import guess_card_vertical_task

    guess_card_vertical_task(post_id)


def do_create_showcase_post(author: User, *, text: str, card: CardInput, **post_fields) -> Post:
    """A post with a product card. The card is checked in full before anything is written, so a refused
    card loses nothing and leaves no post."""
    from tastemaker.social.services import do_create_post

    require(author, Feature.SHOWCASE)  # suspended, limited, or a credit score under CREDIT_SHOWCASE_MIN: why, and how back
    checked = _check_card(author, card)
    image = _card_image(author, card)
    vertical = _chosen_vertical(card.vertical)
    with transaction.atomic():
        post = do_create_post(author, text=text or checked["reason"], **post_fields)
        product_card = ProductCard.objects.create(
            post=post, creator=author, product=checked["product"], title=checked["title"], reason=checked["reason"],
            image=image["file"], image_preview=image.get("preview", ""), image_width=image.get("width"),
            image_height=image.get("height"), price=checked["price"],
            currency=checked["currency"], stock=checked["stock"], disclosure=card.disclosure, vertical=vertical)
        # the card keeps the image's files; the upload itself is used up (and is not a post attachment)
        if card.image_media_id is not None and not Media.objects.filter(
                pk=card.image_media_id, owner=author, post__isnull=True).delete()[0]:
            raise ValidationFailed(_("The card image is unknown, not yours, or already used."), field="image")
        _make_links(product_card, checked["store"], checked["url"], checked["product"])
        if vertical is None:
            transaction.on_commit(lambda: _guess_after_commit(post.pk))
    if vertical is None:  # a job that already ran (immediate mode, or inside an outer commit) set it
        product_card.refresh_from_db(fields=["vertical"])
    return post


def _make_links(card: ProductCard, store: PartnerStore, url: str, product: Product | None) -> None:
    primary_offer = None
    others = []
    if product is not None:
        for offer in Offer.objects.select_related("store").filter(product=product, active=True,
                                                                  store__status=StoreStatus.APPROVED):
            if offer.store_id == store.pk:
                primary_offer = primary_offer or offer
            else:
                others.append(offer)
    CardLink.objects.create(card=card, store=store, offer=primary_offer, url=url, token=links.new_token(),
                            primary=True)
    seen = {store.pk}
    for offer in others:
        if offer.store_id in seen:
            continue
        seen.add(offer.store_id)
        try:
            checked = links.check_purchase_url(offer.url, offer.store.domains)
        except ValidationFailed:
            continue  # the store changed its domains since; that offer is not linked
        CardLink.objects.create(card=card, store=offer.store, offer=offer, url=checked, token=links.new_token())


def read_product_page(url: str):
    """A product page read for a card draft (``importer.import_product``: nothing saved), and the approved
    partner store its link is on (None: none is). A page that cannot be read, for whatever reason, is the
    page's problem: a 422 on the url, never a 500."""
    from . import importer  # lazily: it loads the HTML and structured-data parsers

    try:
        draft = importer.import_product(url.strip())
    except ValidationFailed:
        raise
    except Exception:  # noqa: BLE001 - a page we cannot read is the page's problem, never a 500
        log.exception("product import failed for a page")
        raise ValidationFailed(_("The page could not be read as a product page."), field="url") from None
    try:
        store, _url = find_store_for_url(draft.url)
    except ValidationFailed:
        store = None
    return draft, store
