"""The web layer stays thin (issue 11): no ORM in ``web/``, one way to show a form error, shared helpers, and
the same services and selectors as the API where both show the same thing (product page, storefront,
reconciliation, product import)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django import forms
from django.utils import timezone, translation

from tastemaker.core.errors import NotFound, RateLimited, ValidationFailed

WEB = Path(__file__).resolve().parents[2] / "src" / "tastemaker" / "web"


@pytest.fixture(autouse=True)
def _verticals(db):
    from tastemaker.experts.services import ensure_default_verticals

    ensure_default_verticals()


@pytest.fixture
def expert(make_user):
    return make_user("expert", display_name="Expert Eve")


def _python_files():
    return sorted(WEB.rglob("*.py"))


def _offenders(pattern: re.Pattern) -> list[str]:
    found = []
    for path in _python_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line.split("#", 1)[0]):
                found.append(f"{path.relative_to(WEB.parent)}:{number}: {line.strip()}")
    return found


def test_web_is_scanned():
    names = {p.name for p in _python_files()}
    assert {"views.py", "views_showcase.py", "views_payments.py", "helpers.py", "forms.py"} <= names


def test_no_orm_in_web():
    """Reads go through the domain apps' selectors, writes through their services: no ``.objects`` in web/."""
    offenders = _offenders(re.compile(r"\.objects\b|\b_set\.(?:all|filter|values_list|exclude)\("))
    assert not offenders, "ORM queries in web/ (move them to a selector or service):\n" + "\n".join(offenders)


def test_one_way_to_show_form_errors():
    """Every page shows a refused input through ``web.forms.show_error``: no hand-written ``_add``,
    ``_add_error`` or ``_form_error``, no direct ``form.add_error`` outside forms.py."""
    pattern = re.compile(r"\bdef _(?:add|add_error|form_error)\(|\b_(?:add|add_error|form_error)\(|\.add_error\(")
    offenders = [o for o in _offenders(pattern) if not o.startswith("web/forms.py:")]
    assert not offenders, "form errors shown another way:\n" + "\n".join(offenders)


def test_helpers_are_not_copied_between_page_modules():
    """A helper a page module needs from another lives in web/helpers.py (no private imports across modules,
    no second copy of ``_id_or_404``, ``_keyed``, ``_amount``...)."""
    private_import = re.compile(r"from \.views\w* import .*\b_\w+|views_\w+\._(?!_)\w+")
    offenders = _offenders(private_import)
    copies = _offenders(re.compile(r"\bdef _(?:id_or_404|keyed|amount|currency|see_other|posted|next_max_id)\("))
    assert not offenders + copies, "\n".join(offenders + copies)


# --- show_error -----------------------------------------------------------------------------

class _Form(forms.Form):
    title = forms.CharField(required=False)
    bio = forms.CharField(required=False)


def test_show_error_on_a_django_form_maps_the_service_field():
    from tastemaker.web.forms import show_error

    form = _Form({})
    assert form.is_valid()
    show_error(form, ValidationFailed("Too long.", field="note"), fields={"note": "bio"})
    show_error(form, ValidationFailed("Bad title.", field="title"))
    show_error(form, ValidationFailed("Nope.", field="unknown"))
    show_error(form, "Wrong password.")
    assert form.errors["bio"] == ["Too long."] and form.errors["title"] == ["Bad title."]
    assert form.non_field_errors() == ["Nope.", "Wrong password."]


def test_show_error_on_field_errors_and_rate_limits():
    from tastemaker.web.forms import show_error

    errors: dict[str, list[str]] = {}
    show_error(errors, ValidationFailed("Bad rate.", field="commission_bp"),
               fields={"commission_bp": "commission_percent"}, at="general")
    show_error(errors, ValidationFailed("Unmapped.", field="other"), fields={"commission_bp": "x"}, at="general")
    show_error(errors, ValidationFailed("At the image.", field="url"), at="image")
    show_error(errors, "Typed message.", at="stock")
    with translation.override("en"):
        show_error(errors, RateLimited("Too many imports.", retry_after=7), at="import_url")
    assert errors == {"commission_percent": ["Bad rate."], "general": ["Unmapped."], "image": ["At the image."],
                      "stock": ["Typed message."],
                      "import_url": ["Slow down: Too many imports. Try again in 7 seconds."]}


# --- shared helpers -------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["", "abc", "-1", "1.5", "９", "9" * 20, None])
def test_id_or_404_refuses_what_is_not_an_id(value):
    from tastemaker.core.ids import id_or_404

    with pytest.raises(NotFound) as caught:
        id_or_404(value, "There is no such product.")
    assert caught.value.message == "There is no such product." and caught.value.status == 404


def test_id_or_404_reads_an_id():
    from tastemaker.core.ids import id_or_404

    assert id_or_404("123") == 123 and id_or_404(45) == 45


def test_malformed_ids_on_pages_are_404(client, login, make_user):
    c = login(make_user())
    for url in ("/products/99999999999999999999", "/earnings/commissions/99999999999999999999",
                "/stores/99999999999999999999"):
        response = c.get(url)
        assert response.status_code == 404, url


# --- the same feature as the API: one rule --------------------------------------------------

def test_an_unreadable_product_page_is_a_message_at_the_import_field_not_a_500(client, expert, monkeypatch):
    """The API answered 422 and the composer a 500: the rule is now in ``showcase.importer``, for both."""
    from tastemaker.showcase import importer

    def boom(*args, **kwargs):
        raise RuntimeError("parser exploded")

    monkeypatch.setattr(importer, "fetch", boom)
    client.force_login(expert)
    response = client.post("/compose/showcase", {"action": "import", "import_url": "https://shop.example.com/p/1",
                                                 "title": "typed title"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "The page could not be read as a product page." in html and 'value="typed title"' in html
    with pytest.raises(ValidationFailed) as caught:
        importer.import_product("https://shop.example.com/p/1")
    assert caught.value.field == "url"


def test_reconcile_request_rules_are_one_service(make_user):
    """The operators' page and ``POST /ops/payments/reconcile`` check a period with the same service."""
    from tastemaker.payments import reconcile

    today = timezone.localdate()
    cases = [("paypal", today - timedelta(days=1), today - timedelta(days=1), "provider"),
             ("sandbox", today - timedelta(days=1), today - timedelta(days=2), "date_to"),
             ("sandbox", today - timedelta(days=200), today - timedelta(days=1), "date_to"),
             ("sandbox", today, today + timedelta(days=1), "date_to")]
    for provider, date_from, date_to, field in cases:
        with pytest.raises(ValidationFailed) as caught:
            reconcile.check_reconcile_request(provider, date_from, date_to)
        assert caught.value.field == field, (provider, date_from, date_to)
    reconcile.check_reconcile_request("sandbox", today - timedelta(days=91), today)  # 92 days, ending today: fine


def test_reconcile_request_runs_once_per_key(make_user):
    from tastemaker.payments import idempotency, reconcile
    from tastemaker.payments.models import ReconciliationRun

    ops = make_user(is_staff=True)
    day = timezone.localdate() - timedelta(days=1)
    key = idempotency.new_key()

    def ask():
        return reconcile.do_reconcile_request(ops, key, "/ops/payments", "sandbox", day, day, False,
                                              respond=lambda run: {"run": str(run.pk)})

    first, again = ask(), ask()
    assert first.status == 201 and not first.replayed and again.replayed and again.body == first.body
    assert ReconciliationRun.objects.count() == 1
    with pytest.raises(idempotency.MissingIdempotencyKey):
        reconcile.do_reconcile_request(ops, "", "/ops/payments", "sandbox", day, day, False, respond=dict)


def test_product_page_selector_is_what_the_page_shows(client, expert, make_user, operator, showcase_post):
    """The page and ``GET /showcase/products/{id}`` read one selector: offers (a stale one without its price),
    who recommends the product (public cards only), its newest public cards."""
    from tastemaker.showcase import products, services
    from tastemaker.showcase.models import Offer, PartnerStore
    from tastemaker.social.models import Post

    good = PartnerStore.objects.get(name="Good Shop")
    services.do_upsert_catalog(good, [{"external_id": "c1", "title": "Hydrating face cream", "gtin": "6901234567892",
                                       "url": "https://shop.example.com/p/cream-1", "price": 12900}])
    product_id = Offer.objects.get(external_id="c1").product_id
    shown = showcase_post(expert)
    hidden = showcase_post(make_user("other"))
    Post.objects.filter(pk=hidden.pk).update(visibility="private")
    page = products.product_page(product_id)
    assert page is not None and page.product.pk == product_id
    assert [(u.username, n) for u, n in page.recommended_by] == [("expert", 1)]
    assert [c.post_id for c in page.recent_cards] == [shown.pk] and page.image
    assert [(o.store_name, o.price, o.stale) for o in page.offers] == [("Good Shop", 12900, False)]
    Offer.objects.filter(external_id="c1").update(refreshed_at=timezone.now() - timedelta(days=365))
    stale = products.product_page(product_id).offers[0]
    assert (stale.price, stale.stock, stale.stale, stale.sold_out) == (None, None, True, False)
    html = client.get(f"/products/{product_id}").content.decode()
    assert "Expert Eve" in html and "Check the price at the store" in html
    assert products.product_page(123456789) is None
    assert client.get("/products/123456789").status_code == 404


def test_storefront_shows_followers_only_cards_to_followers_as_the_api_does(client, expert, make_user,
                                                                             showcase_post):
    """One rule for both: followers-only cards are for the creator and their followers (the web page hid them
    from followers, the API showed them)."""
    from tastemaker.social import services as social
    from tastemaker.social.models import Post

    post = showcase_post(expert, title="Secret face cream")
    Post.objects.filter(pk=post.pk).update(visibility="private")
    fan, stranger = make_user("fan"), make_user("stranger")
    social.do_follow(fan, expert)
    client.force_login(stranger)
    assert "Secret face cream" not in client.get("/@expert/showcase").content.decode()
    client.force_login(fan)
    assert "Secret face cream" in client.get("/@expert/showcase").content.decode()
