"""Showcase demo data for ``tastemaker seed-demo``: two partner stores (one run by a brand account), a
catalog with products both stores sell, showcase posts by experts (and by the demo account), fans'
click-outs, and orders reported through real signed webhooks — some refunded, some past their return
window and confirmed — so storefronts, product pages, earnings and trails have something to show.

Commissions are the stores' money: the operator funds the mall's deposit and the brand its store's, each
from a wallet credited the way a sandbox top-up is (provider clearing -> wallet), with idempotency
references. The brand store's deposit is deliberately small, so some of its commissions show "awaiting
store funding" until the brand adds more."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tastemaker.accounts.models import User
from tastemaker.accounts.services import register
from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for
from tastemaker.payments.models import TransactionKind
from tastemaker.showcase.models import PartnerStore
from tastemaker.showcase.services import (
    CardInput,
    do_click_out,
    do_confirm_due_commissions,
    do_create_showcase_post,
    do_create_store,
    do_decide_store,
    do_fund_store_deposit,
    do_receive_webhook,
    do_upsert_catalog,
    link_target,
)
from tastemaker.social.models import Media

BRAND_USERNAME = "demo_brand"
MALL_DEPOSIT = 5_000_000  # ¥50,000: the mall pays every commission
SHOP_DEPOSIT = 200_000  # ¥2,000: the brand store runs short, so some commissions await its funding
REASONS_EN = [
    "I have used it every day for a month: it does exactly what it promises and feels well made.",
    "Compared with the three others I tried, this one is the best value and the easiest to live with.",
    "Bought it with my own money after a long search, and it has earned its place in my routine.",
]
REASONS_ZH = [
    "连续用了一个月，效果和宣传的一样，做工也很扎实，真心推荐。",
    "对比了三款同类产品，这款性价比最高，日常用起来最省心。",
    "找了很久才自费入手，用下来非常满意，已经离不开了。",
]
DISCLOSURES = ["affiliate", "affiliate", "gifted", "paid", "own"]
OWN_MONEY = 2  # the reason that says the creator paid: only on cards disclosed as bought with their own money


def _sign(secret: str, kind: str, data: dict) -> tuple[bytes, dict]:
    body = json.dumps({"type": kind, "data": data})
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = time.time()
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now)),
               "webhook-signature": Webhook(secret).sign(msg_id, datetime.fromtimestamp(now, tz=UTC), body)}
    return body.encode(), headers


def _fund(funder: User, store: PartnerStore, amount: int) -> None:
    """Credit the funder's wallet as a sandbox top-up does (provider clearing -> wallet), then move it into
    the store's deposit. Both keyed, so a second seeding moves nothing twice."""
    post_transaction(TransactionKind.TOPUP, [(provider_clearing("sandbox", "CNY"), -amount),
                                             (wallet_for(funder, "CNY"), amount)],
                     reference=f"demo-topup:{store.pk}", memo="sandbox demo top-up")
    do_fund_store_deposit(funder, store, amount, "CNY", reference=f"demo-deposit:{store.pk}")


def seed_showcase(*, operator: User, experts: list[tuple[int, str, str]], fan_ids: list[int], demo_id: int,
                  topics: dict, pool: list[dict], rng: random.Random, posts_per_expert: int = 2) -> dict:
    """``experts``: (user id, vertical slug, language). Returns counts for the summary line."""
    if PartnerStore.objects.exists():
        return {"stores": 0, "posts": 0, "clicks": 0, "orders": 0}
    brand = User.objects.filter(username=BRAND_USERNAME).first() or register(
        username=BRAND_USERNAME, email="brand@demo.tastemaker.example", password="demo-password-123",
        display_name="Demo Brand 品牌号", language="zh-hans")
    mall, mall_secrets = do_create_store(operator, name="Tastemaker Mall 好物商城", domains=["mall.example.com"],
                                         commission_bp=800, attribution_days=7, return_days=15)
    shop, shop_secrets = do_create_store(brand, name="Demo Brand Store 品牌旗舰店", domains=["brand.example.com"],
                                         commission_bp=1200)
    do_decide_store(operator, shop, approve=True, note="demo")
    _fund(operator, mall, MALL_DEPOSIT)
    _fund(brand, shop, SHOP_DEPOSIT)
    secrets_by_store = {mall.pk: mall_secrets.webhook_secret, shop.pk: shop_secrets.webhook_secret}

    # the catalog: every topic item at the mall; half of them at the brand store too (same GTIN)
    mall_items, shop_items, product_urls = [], [], {}
    n = 0
    for vertical, spec in topics.items():
        for en, zh in spec["items"]:
            n += 1
            gtin = f"69{n:011d}"
            price = rng.choice([1990, 3900, 5990, 12900, 19900, 29900, 59900, 89900])
            image = f"https://mall.example.com/img/{n}.jpg"
            url = f"https://mall.example.com/p/{n}"
            mall_items.append({"external_id": f"M{n}", "title": f"{zh} {en}", "url": url, "gtin": gtin,
                               "price": price, "stock": rng.choice([0, 3, 12, 40, 200]), "images": [image],
                               "brand": "Demo"})
            product_urls[(vertical, en)] = (url, price)
            if n % 2 == 0:
                shop_items.append({"external_id": f"B-{n}", "title": f"{zh} {en}", "gtin": gtin,
                                   "url": f"https://brand.example.com/item/{n}", "price": price - 100,
                                   "stock": rng.choice([5, 30]), "images": [image], "commission_bp": 1500})
    do_upsert_catalog(mall, mall_items)
    do_upsert_catalog(shop, shop_items)

    pictures = {}
    for info in pool:
        pictures.setdefault(info["vertical"], []).append(info)
    authors = [*experts, (demo_id, "beauty", "zh-hans")]
    posts = []
    for uid, vertical, language in authors:
        author = User.objects.get(pk=uid)
        items = topics[vertical]["items"]
        for k in range(posts_per_expert):
            en, zh = items[(uid + k) % len(items)]
            url, price = product_urls[(vertical, en)]
            pic = rng.choice(pictures.get(vertical) or pool)
            media = Media.objects.create(owner=author, file=pic["file"], preview=pic["preview"], width=pic["width"],
                                         height=pic["height"])
            zh_text = language.startswith("zh")
            disclosure = DISCLOSURES[(uid + k) % len(DISCLOSURES)]
            reason = rng.choice(REASONS_ZH if zh_text else REASONS_EN)
            if disclosure == "own":  # a reason that says so only where it is true (not on gifted or paid cards)
                reason = (REASONS_ZH if zh_text else REASONS_EN)[OWN_MONEY]
            elif reason in (REASONS_ZH[OWN_MONEY], REASONS_EN[OWN_MONEY]):
                reason = (REASONS_ZH if zh_text else REASONS_EN)[0]
            card = CardInput(
                title=(f"{zh}" if zh_text else en.capitalize())[:60],
                reason=reason, url=url,
                disclosure=disclosure, image_media_id=media.pk, price=price,
                stock=rng.choice([2, 10, 50]), vertical=vertical)
            text = (f"橱窗上新：{zh}，理由写在卡片里 #{topics[vertical]['tags'][1][0]}" if zh_text
                    else f"New in my showcase: the {en}. Why I picked it is on the card. #{topics[vertical]['tags'][0][0]}")
            posts.append(do_create_showcase_post(author, text=text, card=card))

    # fans click out; some of them buy (reported by the store through its signed webhook)
    clicks = orders = 0
    back = timezone.now() - timedelta(days=20)
    for post in posts:
        link = post.card.links.get(primary=True)
        target = link_target(link.token)
        buyers = rng.sample(fan_ids, k=min(len(fan_ids), rng.randint(3, 12)))
        for i, fan in enumerate(buyers):
            click = do_click_out(target, viewer_id=fan, visitor="", reason="", device=rng.choice(["mobile", "desktop"]),
                                 language="zh-hans", inline=True)
            clicks += 1
            if i % 3:
                continue
            old = rng.random() < 0.4  # paid three weeks ago: past the return window, so it gets confirmed
            if old:
                type(click).objects.filter(pk=click.pk).update(created_at=back - timedelta(hours=1))
            order = f"D{post.pk % 100000}-{i}"
            amount = (link.offer.price if link.offer and link.offer.price else 12900) * rng.choice([1, 1, 2])
            data = {"order_id": order, "click_id": str(click.pk), "amount": amount, "currency": "CNY",
                    "product_id": link.offer.external_id if link.offer else ""}
            if old:
                data["occurred_at"] = back.isoformat()
            secret = secrets_by_store[link.store_id]
            do_receive_webhook(link.store, *_sign(secret, "order.paid", data))
            orders += 1
            if rng.random() < 0.15:
                do_receive_webhook(link.store, *_sign(secret, "order.refunded", {
                    "order_id": order, "amount": amount // 2, "currency": "CNY", "refund_id": f"R{order}"}))
    confirmed = do_confirm_due_commissions()
    return {"stores": 2, "posts": len(posts), "clicks": clicks, "orders": orders, "confirmed": confirmed}
