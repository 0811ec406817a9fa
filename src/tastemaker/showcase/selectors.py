"""Showcase reads: how a card shows (stale and sold-out rules), storefronts, product pages, commissions and
a creator's earnings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from tastemaker.social.visibility import Surface, ViewerLike, posts_q

from .models import (
    CardLink,
    Commission,
    CommissionStatus,
    Offer,
    PartnerStore,
    Product,
    ProductCard,
    StoreStatus,
)
from .notes import rule_text

if TYPE_CHECKING:
    from tastemaker.accounts.models import User
    from tastemaker.experts.models import Vertical


@dataclass
class OfferView:
    store_id: int
    store_name: str
    token: str
    primary: bool
    price: int | None  # None when unknown or stale: "check the price at the store"
    currency: str
    stock: int | None
    stale: bool
    sold_out: bool
    refreshed_at: datetime


@dataclass
class CardView:
    post_id: int
    creator_id: int
    title: str
    reason: str
    image: str
    image_preview: str
    image_width: int | None
    image_height: int | None
    disclosure: str
    disclosure_label: str
    vertical: str  # slug or ""
    product_id: int | None
    offers: list[OfferView] = field(default_factory=list)

    @property
    def primary(self) -> OfferView | None:
        return self.offers[0] if self.offers else None


def stale_before(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(hours=settings.SHOWCASE_STALE_HOURS)


def _offer_view(link: CardLink, card: ProductCard, cutoff: datetime) -> OfferView:
    offer = link.offer
    if offer is not None:
        price, currency, stock, at = offer.price, offer.currency, offer.stock, offer.refreshed_at
    else:
        price, currency, stock, at = card.price, card.currency, card.stock, card.priced_at
    stale = at < cutoff
    return OfferView(store_id=link.store_id, store_name=link.store.name, token=link.token, primary=link.primary,
                     price=None if stale else price, currency=currency, stock=None if stale else stock,
                     stale=stale, sold_out=(not stale and stock is not None and stock <= 0), refreshed_at=at)


def card_views(cards: list[ProductCard]) -> dict[int, CardView]:
    """Views of many cards with two queries (links with their stores and offers), keyed by post id."""
    if not cards:
        return {}
    cutoff = stale_before()
    by_card: dict[int, list[CardLink]] = defaultdict(list)
    for link in (CardLink.objects.select_related("store", "offer")
                 .filter(card_id__in=[c.pk for c in cards], store__status=StoreStatus.APPROVED)
                 .order_by("-primary", "store__name", "id")):
        by_card[link.card_id].append(link)
    out = {}
    for card in cards:
        out[card.pk] = CardView(
            post_id=card.pk, creator_id=card.creator_id, title=card.title, reason=card.reason, image=card.image,
            image_preview=card.image_preview or card.image, image_width=card.image_width,
            image_height=card.image_height, disclosure=card.disclosure,
            disclosure_label=card.disclosure_label, vertical=cast("Vertical", card.vertical).slug if card.vertical_id else "",
            product_id=card.product_id, offers=[_offer_view(link, card, cutoff) for link in by_card[card.pk]])
    return out


def card_view(card: ProductCard) -> CardView:
    return card_views([card])[card.pk]


def cards_for_posts(post_ids: Iterable[int]) -> dict[int, CardView]:
    ids = list(post_ids)
    if not ids:
        return {}
    return card_views(list(ProductCard.objects.select_related("vertical").filter(pk__in=ids)))


def storefront(creator_id: int, *, vertical: str | None = None, max_id: int | None = None,
               limit: int = 20, viewer: ViewerLike = None) -> list[CardView]:
    """A creator's Showcase tab (the web's and the API's): their cards, newest first, optionally in one
    vertical (keyset by post id). Each card's post passes the one visibility rule for ``viewer``
    (``social.visibility``, ``Surface.PROFILE``: as the account's profile, no direct message; nothing across a block,
    followers-only cards for followers, a held card for its author)."""
    qs = (ProductCard.objects.select_related("vertical").filter(creator_id=creator_id)
          .filter(posts_q(viewer, Surface.PROFILE, "post__", originals=False)))
    if vertical:
        qs = qs.filter(vertical__slug=vertical)
    if max_id is not None:
        qs = qs.filter(pk__lt=max_id)
    cards = list(qs.order_by("-pk")[:limit])
    views = card_views(cards)
    return [views[c.pk] for c in cards]


def storefront_verticals(creator_id: int, viewer: ViewerLike = None) -> list[tuple[str, str, int]]:
    """The verticals a storefront can be filtered by, as ``viewer`` sees it (the cards ``storefront`` shows):
    (slug, name, number of cards)."""
    from tastemaker.experts.models import Vertical

    counts = dict(ProductCard.objects.filter(creator_id=creator_id, vertical__isnull=False)
                  .filter(posts_q(viewer, Surface.PROFILE, "post__", originals=False))
                  .values_list("vertical_id").annotate(n=Count("pk")).values_list("vertical_id", "n"))
    return [(v.slug, v.name, counts[v.pk])
            for v in Vertical.objects.filter(pk__in=counts).order_by("position", "slug")]


def product_detail(product_id: int, viewer: ViewerLike = None
                   ) -> tuple[Product, list[Offer], list[tuple[int, int]]] | None:
    """The product, its offers at approved stores, and the experts who recommend it in cards ``viewer`` may
    see listed (``Surface.PUBLIC``: public posts of authors in good standing): (creator id, cards)."""
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        return None
    offers = list(Offer.objects.select_related("store").filter(product=product, active=True,
                                                              store__status=StoreStatus.APPROVED)
                  .order_by("price", "store__name"))
    creators = list(ProductCard.objects.filter(product=product)
                    .filter(posts_q(viewer, Surface.PUBLIC, "post__", originals=False))
                    .values_list("creator_id").annotate(n=Count("pk")).order_by("-n", "creator_id")
                    .values_list("creator_id", "n")[:50])
    return product, offers, creators


@dataclass
class ProductTile:
    product: Product
    cards: int  # how many public showcase posts recommend it
    image: str  # the newest card's picture (ours, re-encoded; never a store's hot-linked image)
    price: int | None  # the lowest fresh price at an approved store
    currency: str


def products_in_vertical(slug: str, limit: int = 12, viewer: ViewerLike = None) -> list[ProductTile]:
    """Products most recommended in a vertical (discovery), with how many public cards carry each (those
    ``viewer`` may see listed: ``Surface.PUBLIC``), the newest card's image and the lowest current price.
    Three queries."""
    listed = posts_q(viewer, Surface.PUBLIC, "post__", originals=False)
    rows = (ProductCard.objects.filter(vertical__slug=slug, product__isnull=False).filter(listed)
            .values_list("product_id").annotate(n=Count("pk")).order_by("-n", "product_id")
            .values_list("product_id", "n")[:limit])
    counts = dict(rows)
    if not counts:
        return []
    products = {p.pk: p for p in Product.objects.filter(pk__in=counts)}
    images: dict[int, str] = {}
    for pid, image, preview in (ProductCard.objects.filter(product_id__in=counts).filter(listed)
                                .order_by("-pk").values_list("product_id", "image", "image_preview")):
        images.setdefault(pid, preview or image)
    prices: dict[int, tuple[int | None, str]] = {}
    for pid, price, currency in (Offer.objects.filter(product_id__in=counts, active=True, price__isnull=False,
                                                      store__status=StoreStatus.APPROVED,
                                                      refreshed_at__gte=stale_before())
                                 .order_by("price").values_list("product_id", "price", "currency")):
        prices.setdefault(pid, (price, currency))
    return [ProductTile(products[pid], n, images.get(pid, ""), *prices.get(pid, (None, "")))
            for pid, n in counts.items() if pid in products]


def linkable_stores() -> list[PartnerStore]:
    """The partner stores a creator's purchase links may lead to (approved), with their domains and rates: what
    the composer lists under "Purchase link"."""
    return list(PartnerStore.objects.filter(status=StoreStatus.APPROVED).order_by("name")[:200])


def stores_for(user: User) -> list[PartnerStore]:
    qs = PartnerStore.objects.all() if user.is_staff else PartnerStore.objects.filter(owner=user)
    return list(qs.order_by("name"))


def store_for(user: User, store_id: int) -> PartnerStore | None:
    """A store its brand owner or an operator may manage; None otherwise (same answer as missing)."""
    store = PartnerStore.objects.filter(pk=store_id).first()
    if store is None or not (user.is_staff or store.owner_id == user.pk):
        return None
    return store


@dataclass
class StoreFunds:
    """A store's deposit in one currency: what is free, what is held for its pending commissions, and
    what its commissions still need that it has not put in."""

    currency: str
    available: int = 0  # free in the deposit: funds new commissions, or can be taken back
    held: int = 0  # held for pending commissions
    awaiting: int = 0  # what its commissions awaiting funding still need (amount − held)
    awaiting_count: int = 0
    paid: int = 0  # paid to creators so far


def store_funds(store: PartnerStore) -> list[StoreFunds]:
    """Per currency (the default first): the store's deposit, holds and unfunded commissions."""
    from tastemaker.payments.models import Account, AccountKind

    rows: dict[str, StoreFunds] = {settings.DEFAULT_CURRENCY: StoreFunds(settings.DEFAULT_CURRENCY)}
    for kind, currency, balance in Account.objects.filter(store=store).values_list("kind", "currency", "balance"):
        row = rows.setdefault(currency, StoreFunds(currency))
        if kind == AccountKind.STORE_DEPOSIT:
            row.available = balance
        elif kind == AccountKind.STORE_HELD:
            row.held = balance
    waiting = (Commission.objects.filter(store=store, status__in=[CommissionStatus.PENDING, CommissionStatus.CONFIRMED],
                                         paid_at__isnull=True, held__lt=F("amount"))
               .values("currency").annotate(n=Count("id"), need=Sum(F("amount") - F("held"))))
    for w in waiting:
        row = rows.setdefault(w["currency"], StoreFunds(w["currency"]))
        row.awaiting, row.awaiting_count = w["need"] or 0, w["n"]
    for currency, total in (Commission.objects.filter(store=store, paid_at__isnull=False).values("currency")
                            .annotate(s=Sum("amount")).values_list("currency", "s")):
        rows.setdefault(currency, StoreFunds(currency)).paid = total or 0
    return list(rows.values())


# --- commissions and earnings ---------------------------------------------------------------

def commissions(*, creator_id: int | None = None, store_id: int | None = None, status: str | None = None,
                max_id: int | None = None, limit: int = 50) -> list[Commission]:
    qs = Commission.objects.select_related("order", "store", "offer__product")
    if creator_id is not None:
        qs = qs.filter(creator_id=creator_id)
    if store_id is not None:
        qs = qs.filter(store_id=store_id)
    if status:
        qs = qs.filter(status=status)
    if max_id is not None:
        qs = qs.filter(pk__lt=max_id)
    return list(qs.order_by("-pk")[:limit])


def commission_for(user: User, commission_id: int) -> Commission | None:
    """A commission its creator, the store's owner or an operator may see (with its trail)."""
    c = (Commission.objects.select_related("order", "click_out", "store", "offer__product")
         .filter(pk=commission_id).first())
    if c is None:
        return None
    if user.is_staff or c.creator_id == user.pk or c.store.owner_id == user.pk:
        return c
    return None


@dataclass
class ClickInfo:
    """The click that earned a commission, as the trail shows it: from the click-out row while it exists,
    else from what the commission kept (the post was deleted, and its click-outs with it)."""

    pk: int
    post_id: int
    valid: bool
    invalid_reason: str
    created_at: datetime
    deleted: bool  # the click-out row is gone with its post


def click_info(commission: Commission) -> ClickInfo:
    click = commission.click_out
    if click is not None:
        return ClickInfo(pk=click.pk, post_id=click.post_id, valid=click.valid, invalid_reason=click.invalid_reason,
                         created_at=click.created_at, deleted=False)
    # only a valid click-out is ever attributed (services.attributed_click)
    return ClickInfo(pk=commission.click_id, post_id=commission.post_id, valid=True, invalid_reason="",
                     created_at=commission.clicked_at, deleted=True)


def trail(commission: Commission) -> dict[str, Any]:
    """Everything that made the commission what it is: the click, the order and each of its events, the
    rule and rate applied, and every change."""
    order = commission.order
    return {
        "click": click_info(commission),
        "order": order,
        "events": list(order.events.order_by("occurred_at", "id")),
        "steps": list(commission.steps.order_by("id")),
        "rule": commission.rule,
        "rule_text": rule_text(commission.rule),  # notes.py: the rule as a sentence in the reader's language
        "rate_bp": commission.rate_bp,
        "rate_source": commission.rate_source,
    }


@dataclass
class EarningsRow:
    key: int  # post id or product id
    label: str
    click_outs: int = 0
    orders: int = 0
    pending: int = 0
    confirmed: int = 0
    voided: int = 0

    @property
    def conversion_rate(self) -> float | None:
        return (self.orders / self.click_outs) if self.click_outs else None


@dataclass
class Earnings:
    currency: str
    click_outs: int
    invalid_click_outs: int
    orders: int
    pending: int
    confirmed: int
    voided_count: int
    by_post: list[EarningsRow]
    by_product: list[EarningsRow]
    daily: dict[str, list[int]]  # {"days": [...epoch seconds], "click_outs": [...], "orders": [...]}
    # of the pending and confirmed commissions: what their stores have not put in yet (paid once they do)
    awaiting_funding: int = 0
    awaiting_funding_count: int = 0

    @property
    def conversion_rate(self) -> float | None:
        return (self.orders / self.click_outs) if self.click_outs else None


def earnings(creator_id: int, *, days: int = 30, now: datetime | None = None) -> Earnings:
    """A creator's click-outs, attributed orders, conversion rate and commissions, in total, per post, per
    product and per day (the last ``days`` days). Amounts in the instance's default currency."""
    now = now or timezone.now()
    currency = settings.DEFAULT_CURRENCY
    from tastemaker.analytics.models import Metric, Stat, SubjectType

    # click-outs from the analytics counters (the same numbers as the reports; invalid traffic apart)
    stats = Stat.objects.filter(owner_id=creator_id, subject_type=SubjectType.POST, metric=Metric.CLICK_OUT)
    per_post = dict(stats.filter(granularity="t", dimension="", bucket=0).values_list("subject_id", "count"))
    invalid_clicks = sum(stats.filter(granularity="t", dimension="invalid").values_list("count", flat=True))
    comms = Commission.objects.filter(creator_id=creator_id, currency=currency)
    sums = comms.aggregate(
        pending=Sum("amount", filter=Q(status=CommissionStatus.PENDING)),
        confirmed=Sum("amount", filter=Q(status=CommissionStatus.CONFIRMED)),
        voided=Count("pk", filter=Q(status=CommissionStatus.VOIDED)),
        orders=Count("pk"))
    awaiting = Q(status__in=[CommissionStatus.PENDING, CommissionStatus.CONFIRMED], paid_at__isnull=True,
                 held__lt=F("amount"))
    unfunded = comms.aggregate(need=Sum(F("amount") - F("held"), filter=awaiting), n=Count("pk", filter=awaiting))
    posts: dict[int, EarningsRow] = {}
    cards = {c.pk: c.title for c in ProductCard.objects.filter(creator_id=creator_id).only("pk", "title")}
    for post_id, n in per_post.items():
        posts.setdefault(post_id, EarningsRow(post_id, cards.get(post_id, str(post_id)))).click_outs = n
    products: dict[int, EarningsRow] = {}
    product_of = dict(ProductCard.objects.filter(creator_id=creator_id, product__isnull=False)
                      .values_list("pk", "product_id"))
    product_titles = dict(Product.objects.filter(pk__in=set(product_of.values())).values_list("pk", "title"))
    for row in posts.values():
        pid = product_of.get(row.key)
        if pid is not None:
            products.setdefault(pid, EarningsRow(pid, product_titles.get(pid, ""))).click_outs += row.click_outs
    for post_id, status, amount in comms.values_list("post_id", "status", "amount"):
        targets = [posts.setdefault(post_id, EarningsRow(post_id, cards.get(post_id, str(post_id))))]
        pid = product_of.get(post_id)
        if pid is not None:
            targets.append(products.setdefault(pid, EarningsRow(pid, product_titles.get(pid, ""))))
        for row in targets:
            row.orders += 1
            if status == CommissionStatus.PENDING:
                row.pending += amount
            elif status == CommissionStatus.CONFIRMED:
                row.confirmed += amount
            else:
                row.voided += 1
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    day_list = [int((start + timedelta(days=i)).timestamp()) for i in range(days)]
    index = {d: i for i, d in enumerate(day_list)}
    click_series, order_series = [0] * days, [0] * days
    for bucket, n in stats.filter(granularity="d", dimension="", bucket__gte=day_list[0]).values_list("bucket", "count"):
        i = index.get(bucket)
        if i is not None:
            click_series[i] += n
    for at in comms.filter(order__paid_at__gte=start).values_list("order__paid_at", flat=True):
        i = index.get(int(cast(datetime, at).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()))
        if i is not None:
            order_series[i] += 1
    order_key = lambda r: (-r.confirmed - r.pending, -r.click_outs, -r.key)  # noqa: E731
    return Earnings(currency=currency, click_outs=sum(per_post.values()), invalid_click_outs=invalid_clicks,
                    orders=sums["orders"] or 0, pending=sums["pending"] or 0, confirmed=sums["confirmed"] or 0,
                    voided_count=sums["voided"] or 0, by_post=sorted(posts.values(), key=order_key),
                    by_product=sorted(products.values(), key=order_key),
                    daily={"days": day_list, "click_outs": click_series, "orders": order_series},
                    awaiting_funding=unfunded["need"] or 0, awaiting_funding_count=unfunded["n"] or 0)



# --- reads for the HTTP layers (api/showcase; the web pages have the same needs) ------------------------

def get_store(store_id: int | None) -> PartnerStore | None:
    """A partner store by id, whatever its status (webhooks are refused by ``orders.verify_webhook`` for a
    store that may not send them; operators decide pending ones)."""
    if store_id is None:
        return None
    return PartnerStore.objects.filter(pk=store_id).first()


def visible_storefront(viewer: ViewerLike, creator: User, *, vertical: str | None = None, max_id: int | None = None,
                       limit: int = 20) -> list[CardView]:
    """A creator's storefront as ``viewer`` (a user or None) may see it, for the web's Showcase tab and the API
    alike: ``storefront`` (the one visibility rule: nothing across a block either way)."""
    return storefront(creator.pk, vertical=vertical, max_id=max_id, limit=limit, viewer=viewer)


def card_titles(post_ids: Iterable[int]) -> dict[int, str]:
    """The title of each showcase post's card, by post id (one query)."""
    ids = set(post_ids)
    if not ids:
        return {}
    return dict(ProductCard.objects.filter(pk__in=ids).values_list("pk", "title"))


def pending_stores(stores: list[PartnerStore]) -> list[PartnerStore]:
    """Of these stores, the ones waiting for an operator's review, with their owners loaded."""
    from django.db.models import prefetch_related_objects

    pending = [s for s in stores if s.status == StoreStatus.PENDING]
    prefetch_related_objects(pending, "owner")
    return pending
