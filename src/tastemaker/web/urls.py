from django.conf import settings
from django.urls import path, register_converter

from . import (
    views,
    views_discovery,
    views_go,
    views_messages,
    views_moderation,
    views_payments,
    views_promotion,
    views_reports,
    views_showcase,
    views_stores,
)

app_name = "web"


class UsernameConverter:
    regex = r"[A-Za-z0-9_]{1,30}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(UsernameConverter, "username")

urlpatterns = [
    # first: the click-out redirect is the hottest route, and patterns are tried in order
    path("go/<str:token>", views_go.go, name="go"),
    path("", views.home, name="home"),
    path("about/rules", views.rules, name="rules"),
    path("me", views.me, name="me"),
    path("public", views.public, name="public"),
    path("tags/<str:tag>", views.tag, name="tag"),
    path("signup", views.signup, name="signup"),
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("settings", views.settings_profile, name="settings"),
    path("settings/password", views.settings_password, name="password"),
    path("settings/apps", views.settings_apps, name="apps"),
    path("settings/apps/<int:app_id>/revoke", views.revoke_app, name="revoke_app"),
    path("settings/credit", views_moderation.credit, name="credit"),
    path("settings/credit/appeals/<int:action_id>", views_moderation.credit_appeal, name="credit_appeal"),
    path("flag/<str:kind>/<int:target_id>", views_moderation.flag, name="flag"),
    path("moderation", views_moderation.queue, name="moderation"),
    path("moderation/cases/<int:case_id>", views_moderation.case_detail, name="moderation_case"),
    path("moderation/actions/<int:action_id>/restore", views_moderation.action_restore,
         name="moderation_restore"),
    path("moderation/audit", views_moderation.audit, name="moderation_audit"),
    path("moderation/appeals", views_moderation.appeals, name="moderation_appeals"),
    path("moderation/appeals/<int:appeal_id>", views_moderation.appeal_decide, name="moderation_appeal_decide"),
    path("moderation/promotion", views_promotion.review_queue, name="promote_review"),
    path("moderation/promotion/revenue", views_promotion.revenue, name="promote_revenue"),
    path("moderation/promotion/<int:campaign_id>", views_promotion.review_decide, name="promote_review_decide"),
    path("promote", views_promotion.campaigns, name="promote"),
    path("promote/post/<int:post_id>", views_promotion.compose_post, name="promote_post"),
    path("promote/account", views_promotion.compose_account, name="promote_account"),
    path("promote/estimate", views_promotion.estimate, name="promote_estimate"),
    path("promote/auto", views_promotion.standing, name="promote_auto"),
    path("promote/auto/<int:order_id>/<str:action>", views_promotion.standing_action, name="promote_auto_action"),
    path("promote/<int:campaign_id>", views_promotion.campaign, name="promote_campaign"),
    path("promote/<int:campaign_id>.csv", views_promotion.campaign_csv, name="promote_campaign_csv"),
    path("promote/<int:campaign_id>/<str:action>", views_promotion.campaign_action, name="promote_campaign_action"),
    path("promoted/<int:campaign_id>/<str:action>", views_promotion.promoted_action, name="promoted_action"),
    path("settings/promotion", views_promotion.promotion_settings, name="promotion_settings"),
    path("notifications", views.notifications, name="notifications"),
    path("messages", views_messages.inbox, name="messages"),
    path("messages/new/@<username:username>", views_messages.new_message, name="message_new"),
    path("messages/<int:conversation_id>", views_messages.thread, name="message_thread"),
    path("messages/<int:conversation_id>/updates", views_messages.updates, name="message_updates"),
    path("messages/<int:conversation_id>/<str:action>", views_messages.action, name="message_action"),
    path("bookmarks", views.bookmarks, name="bookmarks"),
    path("follow-requests", views.follow_requests, name="follow_requests"),
    path("follow-requests/@<username:username>/<str:action>", views.follow_request_action,
         name="follow_request_action"),
    path("search", views.search, name="search"),
    path("compose", views.compose, name="compose"),
    path("compose/showcase", views_showcase.compose_showcase, name="compose_showcase"),
    path("products/<int:product_id>", views_showcase.product_page, name="product"),
    path("earnings", views_showcase.earnings, name="earnings"),
    path("earnings/commissions/<int:commission_id>", views_showcase.commission_detail, name="commission"),
    path("stores", views_stores.stores, name="stores"),
    path("stores/new", views_stores.store_new, name="store_new"),
    path("stores/<int:store_id>", views_stores.store_detail, name="store"),
    path("stores/<int:store_id>/rotate", views_stores.store_rotate, name="store_rotate"),
    path("stores/<int:store_id>/deposit", views_stores.store_deposit, name="store_deposit"),
    path("stores/<int:store_id>/decide", views_stores.store_decide, name="store_decide"),
    path("wallet", views_payments.wallet, name="wallet"),
    path("wallet/topup", views_payments.start_topup, name="wallet_start_topup"),
    path("wallet/topups/<str:order_no>", views_payments.topup_return, name="wallet_topup"),
    path("wallet/withdraw", views_payments.request_withdrawal, name="wallet_withdraw"),
    path("wallet/payout-accounts", views_payments.bind_payout_account, name="wallet_bind"),
    path("wallet/payout-accounts/<str:account_id>/unbind", views_payments.unbind_payout_account,
         name="wallet_unbind"),
    path("ops/payments", views_payments.ops_payments, name="ops_payments"),
    path("payments/sandbox/checkout/<str:order_no>", views_payments.sandbox_checkout, name="sandbox_checkout"),
    path("payments/notify/<slug:provider>", views_payments.provider_notify, name="payment_notify"),
    path("posts/<int:post_id>", views_reports.counted_read(views.post_detail), name="post"),
    path("posts/<int:post_id>/report", views_reports.post_report, name="post_report"),
    path("posts/<int:post_id>/report.csv", views_reports.post_report_csv, name="post_report_csv"),
    path("events", views_reports.events, name="events"),
    path("reports", views_reports.account_report, name="account_report"),
    path("reports.csv", views_reports.account_report_csv, name="account_report_csv"),
    path("reports/@<username:username>", views_reports.account_report, name="account_report_for"),
    path("reports/@<username:username>.csv", views_reports.account_report_csv, name="account_report_csv_for"),
    path("posts/<int:post_id>/delete", views.delete_post, name="delete_post"),
    path("posts/<int:post_id>/<str:action>", views.post_action, name="post_action"),
    path("onboarding", views_discovery.onboarding, name="onboarding"),
    path("onboarding/experts", views_discovery.onboarding_experts, name="onboarding_experts"),
    path("suggestions", views_discovery.suggestions, name="suggestions"),
    path("suggestions/box", views_discovery.who_to_follow_box, name="who_to_follow_box"),
    path("suggestions/<int:account_id>/dismiss", views_discovery.dismiss_suggestion, name="dismiss_suggestion"),
    path("experts", views_discovery.experts_index, name="experts"),
    path("experts/<slug:slug>", views_discovery.expert_directory, name="expert_directory"),
    path("discover", views_discovery.discover_index, name="discover_index"),
    path("discover/<slug:slug>", views_discovery.discover, name="discover"),
    path("settings/interests", views_discovery.interests, name="interests"),
    path("settings/labels", views_discovery.my_labels, name="labels"),
    path("settings/labels/<str:action>", views_discovery.label_action, name="label_action"),
    path("@<username:username>", views.profile, name="profile"),
    path("@<username:username>/followers", views.follow_list, {"which": "followers"}, name="followers"),
    path("@<username:username>/following", views.follow_list, {"which": "following"}, name="following"),
    path("@<username:username>/showcase", views_showcase.storefront, name="storefront"),
    path("@<username:username>/<str:action>", views.account_action, name="account_action"),
]

if settings.MEDIA_URL.startswith("/"):
    urlpatterns.append(path(settings.MEDIA_URL.lstrip("/") + "<path:path>", views.media, name="media"))
