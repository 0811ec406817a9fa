"""Every main page in a real browser, as a stranger would try it (issue 18): a phone in Chinese and a desktop in
English, as a visitor, a fan, a creator, a brand (a partner store's owner) and an operator. Each page fails on: sideways scrolling, text under 12 px,
console errors, failed requests, English left in the Chinese UI (outside what people wrote), and axe-core
accessibility violations of serious or critical impact (axe-core from the npm registry, injected into the page;
no CDN — scripts/system-deps.sh installs it). Screenshots of a failing page go to tests/e2e/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
AXE = Path(__file__).resolve().parents[2] / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).resolve().parent / "screenshots"

# what this walk checks is HTML, CSS and text, the same on either database (the pages' data paths are tested
# on both): once
pytestmark = [pytest.mark.browser, pytest.mark.once, pytest.mark.django_db(transaction=True)]


# UI text that is the same in both languages (brand, units, codes)
LATIN_OK = re.compile(r"^(Tastemaker|CNY|USD|CSV|OK|API|ID|URL|@\w+|[A-Z]{2,3}|[\d\W_]+|v\d.*|#\w+)$")

PROBE = """() => {
  const out = {small: [], latin: []};
  const user = 'article .content, .post-content, .bio, .name, .handle, code, pre, .sc-card-title, .sc-reason, ' +
    '.tile-text, .reason, .sc-store, .sc-product-title, .sc-product-name, .brand, input, textarea, select, ' +
    'option, .sr-only, [data-user-text], .pill.score, .sc-click-id, time, .tile-author, .account-row, ' +
    '.who, .muted.handle, .store-name, .sc-description, svg, .langpicker, .post-text, .sc-title, .me-who';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.textContent.trim(), el = node.parentElement;
    if (!text || !el) continue;
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden' || el.closest('[hidden],details:not([open]) > :not(summary)')) continue;
    let size = parseFloat(style.fontSize);
    const svg = el.closest('svg');
    if (svg && el.getScreenCTM) size *= el.getScreenCTM().a;
    if (size < 11.5) out.small.push(`${Math.round(size * 10) / 10}px: ${text.slice(0, 40)}`);
    if (!el.closest(user) && /[A-Za-z]{3,}/.test(text) && !/[\\u4e00-\\u9fff]/.test(text)) out.latin.push(text.slice(0, 60));
  }
  out.overflow = document.documentElement.scrollWidth - window.innerWidth;
  return out;
}"""


@pytest.fixture
def community(make_user, operator, showcase_post, store, png_bytes):
    import importlib

    from tastemaker.experts.models import Vertical
    from tastemaker.social.services import do_create_post, do_follow, do_upload_media

    # a transactional test's flush empties the verticals the migration seeded: put them back
    for position, (slug, en, zh) in enumerate(importlib.import_module(
            "tastemaker.experts.migrations.0002_default_verticals").DEFAULTS):
        Vertical.objects.get_or_create(slug=slug, defaults={"name_en": en, "name_zh": zh, "position": position})
    expert = make_user("expert", display_name="Expert Eve")
    from tastemaker.showcase import services as showcase

    showcase.do_upsert_catalog(store, [{"external_id": "c1", "title": "Hydrating face cream", "gtin": "6901234567892",
                                        "url": "https://shop.example.com/p/cream-1", "price": 12900, "stock": 5}])
    fan = make_user("fan", language="zh-hans")
    do_follow(fan, expert)
    # the fan's wallet has a history (a top-up and a transfer) for the phone's stacked rows
    from tastemaker.payments.ledger import post_transaction, provider_clearing, wallet_for
    from tastemaker.payments.services import do_transfer

    post_transaction("topup", [(provider_clearing("sandbox", "CNY"), -50_000), (wallet_for(fan, "CNY"), 50_000)],
                     reference="walk-topup")
    do_transfer(fan, expert, 1_990, "CNY", memo="谢谢你的推荐")
    post = showcase_post(expert)
    media = do_upload_media(expert, png_bytes(size=(120, 90)))
    plain = do_create_post(expert, text="今天的早餐 #早餐 🍳", media_ids=[media.pk])
    from tastemaker.showcase.stores import do_create_store

    brand = make_user("brand", display_name="Brand Bo")
    brand_store, _secrets = do_create_store(brand, name="Brand Bo Shop", domains=["brand-bo.example.com"])
    return {"fan": fan, "expert": expert, "operator": operator, "card_post": post, "plain": plain,
            "product": post.card.product_id, "brand": brand, "brand_store": brand_store}


def _context(browser, live_server, user, viewport, language):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    context = browser.new_context(viewport=viewport, locale="zh-CN" if language != "en" else "en-US",
                                  is_mobile=viewport == PHONE, has_touch=viewport == PHONE)
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    if user is not None:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url})
    context.add_cookies(cookies)
    return context


def _walk(browser, live_server, user, paths, viewport, language):
    context = _context(browser, live_server, user, viewport, language)
    page = context.new_page()
    problems: list[str] = []
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"js: {e}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    # a request the next navigation cut short (an impression beacon leaving the page) is not a failure
    page.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "") else errors.append(
        f"failed: {r.url} {r.failure}"))
    page.on("response", lambda r: errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
    axe = AXE.read_text()
    for path in paths:
        errors.clear()
        response = page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        found = page.evaluate(PROBE)
        page.evaluate(axe)  # as the devtools do: the site's CSP (script-src 'self') stays on
        violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
            .violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))""")
        bad = []
        if response is None or response.status >= 400:
            bad.append(f"status {response.status if response else '?'}")
        if found["overflow"] > 0:
            bad.append(f"sideways scroll {found['overflow']}px")
        bad += [f"small text {s}" for s in found["small"][:5]]
        if language != "en":
            bad += [f"english: {t}" for t in found["latin"] if not LATIN_OK.match(t)][:8]
        bad += [f"axe {v}" for v in violations]
        bad += errors[:5]
        if bad:
            SHOTS.mkdir(exist_ok=True)
            name = re.sub(r"\W+", "_", f"{viewport['width']}_{language}_{path}")
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
            problems += [f"{path} [{viewport['width']} {language}] {b}" for b in bad]
    context.close()
    return problems


def test_every_page_on_a_phone_in_chinese_and_a_desktop_in_english(browser, live_server, community):
    assert AXE.exists(), "axe-core missing: run scripts/system-deps.sh"
    c = community
    public = ["/public", "/discover", "/experts", "/experts/beauty", "/login", "/signup", "/about/rules",
              f"/posts/{c['plain'].pk}", f"/@{c['expert'].username}", f"/@{c['expert'].username}/showcase",
              f"/products/{c['product']}"]
    fan = ["/", "/notifications", "/me", "/settings", "/settings/interests", "/wallet", "/bookmarks", "/suggestions",
           "/discover", "/messages", "/messages?folder=requests", "/messages/service", "/subscriptions",
           "/settings/promotion"]
    creator = ["/", "/reports", f"/posts/{c['card_post'].pk}/report", "/earnings", "/compose/showcase",
               "/settings/labels", "/settings/credit", "/promote", f"/promote/post/{c['card_post'].pk}",
               "/fanservice", "/fanservice/compose", "/fanservice/replies"]
    brand = ["/stores", f"/stores/{c['brand_store'].pk}", "/promote/account", "/fanservice", "/wallet"]
    operator = ["/moderation", "/stores", "/ops/payments"]
    problems = []
    for viewport, language in ((PHONE, "zh-hans"), (DESKTOP, "en")):
        problems += _walk(browser, live_server, None, public, viewport, language)
        problems += _walk(browser, live_server, c["fan"], fan, viewport, language)
        problems += _walk(browser, live_server, c["expert"], creator, viewport, language)
        problems += _walk(browser, live_server, c["brand"], brand, viewport, language)
        problems += _walk(browser, live_server, c["operator"], operator, viewport, language)
    assert not problems, "\n".join(problems)
