"""The Showcase (橱窗): partner stores and their catalog, product cards on posts, tracked click-outs,
orders reported back by stores, and the commissions attributed to creators — each with its trail.

Money is integer minor units with a currency (core.money); never a float.
"""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tastemaker.core.ids import new_id


def store_name_key(name: str) -> str:
    """How store names are compared: NFKC (full-width and compatibility forms), case-folded, letters and
    digits only (spaces, punctuation, symbols and invisible characters dropped). "Ｔａｓｔｅｍａｋｅｒ  MALL!"
    and "tastemaker mall" are one name."""
    folded = unicodedata.normalize("NFKC", name or "").casefold()
    return "".join(ch for ch in unicodedata.normalize("NFKC", folded)
                   if unicodedata.category(ch)[0] in "LN")[:100]


class StoreStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class PartnerStore(models.Model):
    """An external shop whose purchase links cards may carry, and which reports orders back."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    name = models.CharField(_("name"), max_length=100)
    # the name folded for comparison (NFKC, case-folded, letters and digits only): unique, so no store can
    # take another's name in other letter case, full-width forms or with other spacing or punctuation
    name_key = models.CharField(max_length=100, unique=True, null=True, blank=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="partner_stores")  # the brand account that runs it (None: operator's)
    status = models.CharField(max_length=10, choices=StoreStatus.choices, default=StoreStatus.PENDING)
    domains = models.JSONField(_("domains"), default=list)  # host names purchase links may use (and subdomains)
    commission_bp = models.PositiveIntegerField(_("commission rate (basis points)"), default=500)
    attribution_days = models.PositiveSmallIntegerField(_("attribution window (days)"), default=7)
    return_days = models.PositiveSmallIntegerField(_("return window (days)"), default=15)
    api_key_prefix = models.CharField(max_length=16, unique=True, null=True, blank=True)  # shown; finds the store
    api_key_hash = models.CharField(max_length=64, blank=True)  # sha256 of the whole key; the key is shown once
    webhook_secret = models.CharField(max_length=80, blank=True)  # "whsec_…": HMAC needs the secret itself
    secrets_rotated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("partner store")
        verbose_name_plural = _("partner stores")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = store_name_key(self.name) or None  # in step with the name, whoever saves it (the admin too)
        super().save(*args, **kwargs)

    @property
    def approved(self) -> bool:
        return self.status == StoreStatus.APPROVED


class Product(models.Model):
    """What a product is, independent of who sells it; its offers are the stores' prices and stock."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(blank=True)
    images = models.JSONField(default=list, blank=True)  # absolute URLs as the store gave them
    gtin = models.CharField(max_length=14, blank=True, db_index=True)  # barcode: links offers of several stores
    brand = models.CharField(max_length=100, blank=True)
    vertical = models.ForeignKey("experts.Vertical", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="products")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.title


class Offer(models.Model):
    """One store's listing of a product: its price, stock and purchase link, kept current by the store."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    store = models.ForeignKey(PartnerStore, on_delete=models.CASCADE, related_name="offers")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="offers")
    external_id = models.CharField(max_length=100)
    url = models.CharField(max_length=2048)  # validated against the store's domains
    price = models.BigIntegerField(null=True, blank=True)  # minor units
    currency = models.CharField(max_length=3, default="CNY")
    stock = models.IntegerField(null=True, blank=True)  # None: the store does not say
    commission_bp = models.PositiveIntegerField(null=True, blank=True)  # None: the store's default rate
    refreshed_at = models.DateTimeField(default=timezone.now)  # when the store last confirmed price and stock
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "external_id"], name="showcase_offer_store_ext")]


class Disclosure(models.TextChoices):
    OWN = "own", _("Own product")
    AFFILIATE = "affiliate", _("Affiliate")
    GIFTED = "gifted", _("Gifted")
    PAID = "paid", _("Paid partnership")


# the label shown on the card (China's 广告 rule and the FTC's "#ad"): what a reader sees
DISCLOSURE_LABELS = {
    Disclosure.OWN: pgettext_lazy("disclosure label", "Own product"),
    Disclosure.AFFILIATE: pgettext_lazy("disclosure label", "Affiliate"),
    Disclosure.GIFTED: pgettext_lazy("disclosure label", "Gifted"),
    Disclosure.PAID: pgettext_lazy("disclosure label", "Ad"),
}


class ProductCard(models.Model):
    """The product card a showcase post carries (at most one per post)."""

    post = models.OneToOneField("social.Post", on_delete=models.CASCADE, primary_key=True, related_name="card")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cards")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="cards")
    title = models.CharField(max_length=60)
    reason = models.TextField(max_length=1000)
    image = models.CharField(max_length=255)  # re-encoded file under MEDIA_ROOT
    image_preview = models.CharField(max_length=255, blank=True)
    image_width = models.PositiveIntegerField(null=True, blank=True)
    image_height = models.PositiveIntegerField(null=True, blank=True)
    price = models.BigIntegerField(null=True, blank=True)  # the creator's price, minor units (cards without offer)
    currency = models.CharField(max_length=3, default="CNY")
    stock = models.IntegerField(null=True, blank=True)
    priced_at = models.DateTimeField(default=timezone.now)  # when the creator's price and stock were true
    disclosure = models.CharField(max_length=10, choices=Disclosure.choices)
    vertical = models.ForeignKey("experts.Vertical", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="cards")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["creator", "-post"], name="showcase_card_creator")]

    @property
    def disclosure_label(self) -> str:
        return str(DISCLOSURE_LABELS[self.disclosure])


class CardLink(models.Model):
    """A purchase link of a card: one per store offering the product. Clicks go out through /go/<token>,
    which redirects only to ``url`` — stored and validated here, never taken from the request."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    card = models.ForeignKey(ProductCard, on_delete=models.CASCADE, related_name="links")
    store = models.ForeignKey(PartnerStore, on_delete=models.CASCADE, related_name="links")
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.SET_NULL, related_name="links")
    url = models.CharField(max_length=2048)
    token = models.CharField(max_length=32, unique=True)
    primary = models.BooleanField(default=False)  # the link the creator gave

    class Meta:
        constraints = [models.UniqueConstraint(fields=["card", "store"], name="showcase_link_card_store")]


class ClickOut(models.Model):
    """A click on a purchase link. Its id is the click id sent to the store (and the analytics event id)."""

    id = models.BigIntegerField(primary_key=True)
    link = models.ForeignKey(CardLink, on_delete=models.CASCADE, related_name="clicks")
    store = models.ForeignKey(PartnerStore, on_delete=models.CASCADE, related_name="clicks")
    post_id = models.BigIntegerField()
    creator_id = models.BigIntegerField()
    viewer_key = models.CharField(max_length=40)  # "u<account>" or "v<visitor cookie>"
    valid = models.BooleanField(default=True)
    invalid_reason = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # attribution looks up a buyer's valid clicks at a store; nothing else reads clicks by viewer, so
        # invalid clicks (bots, repeats) stay out of the index. Counts per creator come from the analytics
        # counters, so there is no creator index to maintain on this write-heavy table.
        indexes = [models.Index(fields=["store", "viewer_key", "-id"], name="showcase_click_viewer",
                                condition=Q(valid=True))]


class OrderStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partial", _("Partly refunded")
    REFUNDED = "refunded", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")
    UNPAID = "unpaid", _("Not paid yet")  # a refund or cancel arrived before the payment


class Order(models.Model):
    """An order at a partner store as the store reported it (the platform never holds the order)."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    store = models.ForeignKey(PartnerStore, on_delete=models.CASCADE, related_name="orders")
    external_id = models.CharField(max_length=100)
    reported_click_id = models.BigIntegerField(null=True, blank=True)  # what the store sent
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.UNPAID)
    currency = models.CharField(max_length=3, default="CNY")
    paid_amount = models.BigIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    product_external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "external_id"], name="showcase_order_store_ext")]


class OrderEvent(models.Model):
    """One verified webhook delivery, kept as received. Deduplicated by the Standard Webhooks id."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    store = models.ForeignKey(PartnerStore, on_delete=models.CASCADE, related_name="order_events")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    webhook_id = models.CharField(max_length=100)
    type = models.CharField(max_length=20)  # order.paid | order.refunded | order.cancelled
    occurred_at = models.DateTimeField()
    amount = models.BigIntegerField(default=0)  # paid amount, or this refund's amount
    refund_id = models.CharField(max_length=100, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "webhook_id"], name="showcase_orderevent_once")]


class CommissionStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("commission", "Pending")
    CONFIRMED = "confirmed", _("Confirmed")
    VOIDED = "voided", _("Voided")


class Commission(models.Model):
    """A creator's commission on an attributed order, with the rule and rate that made it."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="commission")
    # the click that earned it: its id (the tm_click the store saw) and time are kept here, so the trail
    # still shows them once the post is deleted and its links and click-outs go with it (click_out: None)
    click_out = models.ForeignKey(ClickOut, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="commissions")
    click_id = models.BigIntegerField()
    clicked_at = models.DateTimeField()
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="commissions")
    store = models.ForeignKey(PartnerStore, on_delete=models.CASCADE, related_name="commissions")
    post_id = models.BigIntegerField()
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.SET_NULL, related_name="commissions")
    rate_bp = models.PositiveIntegerField()
    rate_source = models.CharField(max_length=10)  # "product" (the offer's own rate) | "store" (its default)
    rule = models.CharField(max_length=200)  # the attribution rule, as applied (English; shown translated)
    basis = models.BigIntegerField(default=0)  # paid − refunded, minor units
    amount = models.BigIntegerField(default=0)  # rate × basis, minor units
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(max_length=10, choices=CommissionStatus.choices, default=CommissionStatus.PENDING)
    confirm_after = models.DateTimeField(null=True, blank=True)  # paid_at + the store's return window
    confirmed_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    payout_reference = models.CharField(max_length=64, blank=True)  # the ledger transaction's reference
    # what the store's deposit holds for it (pending); less than ``amount`` while the store has not funded it
    held = models.BigIntegerField(default=0)
    ledger_seq = models.PositiveIntegerField(default=0)  # numbers its hold/release references, once each
    paid_at = models.DateTimeField(null=True, blank=True)  # paid from the store's funds to the creator's wallet
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["creator", "-id"], name="showcase_commission_creator"),
                   models.Index(fields=["status", "confirm_after"], name="showcase_commission_due"),
                   # confirmed but not paid yet: waiting for its store to fund it (the job retries them)
                   models.Index(fields=["store", "id"], name="showcase_commission_unpaid",
                                condition=Q(status="confirmed", paid_at__isnull=True))]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0) & Q(basis__gte=0),
                                              name="showcase_commission_nonneg"),
                       models.CheckConstraint(condition=Q(held__gte=0) & Q(held__lte=models.F("amount")),
                                              name="showcase_commission_held_range")]

    @property
    def awaiting_funding(self) -> bool:
        """Not voided, not paid, and its store has not put in (all of) its amount yet."""
        return self.status != CommissionStatus.VOIDED and self.paid_at is None and self.held < self.amount


class CommissionStep(models.Model):
    """The trail: every change to a commission, with the amounts before and after and why."""

    id = models.BigIntegerField(primary_key=True, default=new_id, editable=False)
    commission = models.ForeignKey(Commission, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=20)  # attributed | recomputed | refunded | cancelled | confirmed | paid_out
    amount_before = models.BigIntegerField(default=0)
    amount_after = models.BigIntegerField(default=0)
    status_after = models.CharField(max_length=10)
    note = models.CharField(max_length=300, blank=True)
    order_event = models.ForeignKey(OrderEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
