"""Showcase writes, by area: ``stores`` (partner stores, their secrets and deposits), ``catalog`` (a store's
offers), ``cards`` (product cards and showcase posts), ``clicks`` (tracked links and click-outs), ``orders``
(store webhooks, orders and the commissions they earn) and ``commissions`` (funding and paying them).

This module only re-exports their public names, for the callers that import ``showcase.services`` (the web
pages, the admin, the demo data, the jobs); new code imports the area module itself."""

from .cards import (
    REASON_MAX,
    TITLE_MAX,
    CardInput,
    check_reason,
    check_title,
    do_create_showcase_post,
    find_store_for_url,
)
from .catalog import CATALOG_BATCH_MAX, do_upsert_catalog
from .clicks import LinkTarget, do_click_out, link_target
from .commissions import FUNDING_STEPS, do_confirm_due_commissions, fund_waiting_commissions
from .orders import (
    EVENT_TYPES,
    WebhookRejected,
    WebhookResult,
    attributed_click,
    do_receive_webhook,
    verify_webhook,
)
from .stores import (
    StoreSecrets,
    check_store_admin,
    check_store_operator,
    do_create_store,
    do_decide_store,
    do_fund_store_deposit,
    do_rotate_store_secrets,
    do_update_store,
    do_withdraw_store_deposit,
    store_for_api_key,
    store_limits,
)

__all__ = [
    "CATALOG_BATCH_MAX", "EVENT_TYPES", "FUNDING_STEPS", "REASON_MAX", "TITLE_MAX", "CardInput", "LinkTarget",
    "StoreSecrets", "WebhookRejected", "WebhookResult", "attributed_click", "check_reason", "check_store_admin",
    "check_store_operator", "check_title", "do_click_out", "do_confirm_due_commissions", "do_create_showcase_post",
    "do_create_store", "do_decide_store", "do_fund_store_deposit", "do_receive_webhook", "do_rotate_store_secrets",
    "do_update_store", "do_upsert_catalog", "do_withdraw_store_deposit", "find_store_for_url",
    "fund_waiting_commissions", "link_target", "store_for_api_key", "store_limits", "verify_webhook",
]
