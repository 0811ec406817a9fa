"""Payments: wallets on a double-entry, append-only ledger; top-ups, withdrawals, reconciliation.

Read ``models`` (the ledger's rules), then use only these entry points.

Writes (``payments.services``; errors are ``core.errors`` with translated messages)
    do_transfer(from_user, to_user, amount, currency, *, memo="", reference=None) -> Transaction
    do_hold(user, amount, currency, memo="", *, destination=None, reference=None) -> Hold
    do_capture(hold, amount=None, *, to=None, memo="") -> Transaction | None  # the rest goes back
    do_release(hold, memo="") -> Transaction | None                      # what do_capture_part left
    do_capture_part(hold, amount, *, reference, to=None) -> Transaction  # the hold stays pending
    do_reverse(tx, *, initiator=None, memo="") -> Transaction          # transfers, commissions, ...
    # a partner store's deposit funds its creators' commissions (Showcase hooks; no platform account moves):
    do_fund_store(funder, store_id, amount, currency, *, reference=None) -> Transaction   # wallet -> deposit
    do_withdraw_store_deposit(store_id, to_user, amount, currency, *, reference=None) -> Transaction
    do_hold_for_commission(store_id, amount, currency, *, reference) -> Transaction  # deposit -> store held
    do_release_for_commission(store_id, amount, currency, *, reference) -> Transaction  # store held -> deposit
    do_pay_commission(*, store_id, user_id, amount, currency, reference) -> Transaction  # store held -> wallet
    do_reverse_commission(*, reference) -> Transaction | None
    do_start_topup(user, amount, currency, provider) -> (TopUp, redirect_url)
    do_handle_notification(provider, params) -> "success" | "failure"
    do_query_topup(topup) -> TopUp
    do_bind_payout_account(user, provider, identifier, holder_name) -> PayoutAccount
    do_unbind_payout_account(user, payout_account) -> None
    do_request_withdrawal(user, amount, currency, payout_account=None) -> Withdrawal
        # Conflict until PAYOUT_ACCOUNT_COOLDOWN_HOURS after the account was bound (payout_account_ready_at)
    do_process_withdrawal(withdrawal_id) -> Withdrawal                  # the job; safe to re-run
    do_settle(provider, currency, day, amount) -> Transaction | None
  Accounts: ledger.wallet_for(user, currency), ledger.platform_account(kind, currency),
  ledger.store_deposit_for(store_id, currency), ledger.store_held_for(store_id, currency),
  ledger.provider_clearing(provider, currency); the low-level ledger.post_transaction(kind, legs, ...).

Reads (``payments.selectors``)
    balances(user) / balance(user, currency) -> Balance(available, held, total)
    holds(user, status="pending", page=Page) ; history(user, currency=, kind=, direction=, since=,
    until=, page=Page) -> [HistoryItem] (keyset by entry id; dates checked with check_day: years
    DATE_MIN..DATE_MAX) ; transaction_detail(viewer, id)
    topups(user, page) ; topup_for(user, order_no) ; withdrawals(user, page) ; payout_accounts(user)
    platform_overview() ; reconciliation_runs(provider=None)
    providers.enabled_providers() -> ["sandbox", ...]   (what the top-up form offers)

Idempotency (``payments.idempotency``): every HTTP request that moves money (transfer, top-up start,
withdrawal, capture...) goes through ``run_idempotent(user, key, fingerprint, act)`` with the
``Idempotency-Key`` header (API) or a hidden ``new_key()`` form field (web). See that module.

What the web / API layer wires
    POST /payments/notify/<provider>  (csrf_exempt, no login; the path is settings.PAYMENT_NOTIFY_URL)
        rate-limited per client IP (RATE_PAYMENT_NOTIFY; 429 in plain text), then
        reply = services.do_handle_notification(provider, request.POST.dict())
        return HttpResponse(reply, content_type="text/plain")   # 200; the body says it
    GET  /payments/sandbox/checkout/<order_no>   (settings.PAYMENT_SANDBOX_CHECKOUT_URL; only while
         "sandbox" is enabled; login required, and only the user who started the top-up: anyone else
         gets 404, providers.sandbox.check_payer) shows providers.sandbox.checkout_details(order_no):
         amount_display, merchant, status; two POST buttons (CSRF-protected form) calling
         providers.sandbox.sandbox_approve(order_no) / sandbox_decline(order_no); both return the
         Checkout whose return_url the view redirects to. The notification then arrives by itself
         (a huey job after the commit; inline when HUEY_IMMEDIATE).
    GET  /wallet/topups/<order_no>   (settings.PAYMENT_RETURN_URL: where the payer comes back)
         selectors.topup_for(request.user, order_no): pending until the notification lands (poll
         with htmx), then succeeded/failed.
    The wallet page / API: balances, holds, history (filters map to history()'s arguments; page via
    core.pagination.page_from), top-up form -> do_start_topup -> redirect to the URL, withdraw form,
    payout account binding. Only the owner reads or moves a wallet; operators (is_staff) may read.
    Operator page: selectors.platform_overview(), selectors.reconciliation_runs(), and
    reconcile.reconcile(provider, date_from, date_to, settle=...) (also ``tastemaker reconcile``).

Background: tasks.deliver_sandbox_notification, tasks.process_withdrawal, tasks.sweep_payments
(every 5 minutes: queries top-ups whose notification is late, resumes withdrawals, purges old
idempotency records).
"""
