"""Server-rendered pages. Thin: validate the form, call a service or selector, render.

Domain errors (``DomainError``) become a message with their own status code (422, 403, 404,
429 with Retry-After), never a 500. htmx requests get small fragments; everything works
without JavaScript through ordinary links and POST forms.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils._os import safe_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe
from django.views.i18n import set_language as django_set_language

from tastemaker.accounts import selectors as account_selectors
from tastemaker.accounts import services as accounts
from tastemaker.analytics.filters import device_class, request_reason
from tastemaker.core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from tastemaker.core.pagination import page_from
from tastemaker.feeds.selectors import home_timeline
from tastemaker.moderation.selectors import server_rules
from tastemaker.promotion import selectors as promotion
from tastemaker.promotion import services as promotion_services
from tastemaker.social import selectors
from tastemaker.social import services as social
from tastemaker.trust.ratelimit import check_and_hit, client_ip

from .forms import ComposeForm, LoginForm, PasswordForm, ProfileForm, SignupForm, error_text, show_error
from .helpers import (
    PAGE_SIZE,
    account_or_404,
    domain_errors,
    page_of,
    post_or_404,
    safe_next,
    timeline_page,
    viewer_of,
)

MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp"}


# --- helpers --------------------------------------------------------------------------------

def _remember_language(response: HttpResponse, language: str) -> None:
    """Make a profile language the UI language from the next request on (LocaleMiddleware reads it)."""
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600,
                        samesite="Lax", httponly=False)


def _offered(code: str) -> str | None:
    """``code`` if it is a UI language the site offers."""
    return code if code in dict(settings.LANGUAGES) else None


def _chosen_language(request: HttpRequest) -> str | None:
    """The UI language the visitor picked in the footer (its cookie), if it is one the site offers."""
    return _offered(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""))


@require_POST
def set_language(request):
    """The footer's language switch: Django's ``set_language`` (cookie, safe ``next``), and for a logged-in
    user the profile's language too, so the choice follows them to other devices and to the next log-in."""
    response = django_set_language(request)
    code = _offered(request.POST.get("language", ""))
    if request.user.is_authenticated and code and code != request.user.language:
        accounts.update_profile(request.user, language=code)
    return response


@require_safe
def rules(request):
    """The server's rules (the one list: moderation.selectors.server_rules), linked from the sign-up form."""
    return render(request, "web/rules.html", {"rules": server_rules()})


# --- auth -----------------------------------------------------------------------------------

@domain_errors
def signup(request):
    if request.user.is_authenticated:
        return redirect("web:home")
    form = SignupForm(request.POST or None, initial={"language": translation.get_language()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            check_and_hit("register", client_ip(request), "RATE_REGISTER_IP")
            data = form.cleaned_data
            try:
                user = accounts.register(username=data["username"], email=data["email"],
                                         password=data["password"], display_name=data["display_name"],
                                         language=data["language"], agreement=data["agreement"])
            except ValidationFailed as exc:
                show_error(form, exc)
            else:
                login(request, user)
                messages.success(request, _("Welcome, %(name)s! Follow some people to fill your home feed.")
                                 % {"name": user.name})
                response = redirect("web:onboarding")  # pick interests, follow experts (discovery)
                _remember_language(response, user.language)
                return response
        status = 422
    return render(request, "web/signup.html", {"form": form}, status=status)


@domain_errors
def login_view(request):
    if request.user.is_authenticated:
        return redirect(safe_next(request, reverse("web:home")))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            # the log-in limits (per IP, per account) are in accounts.backends: RateLimited is a 429 page
            user = authenticate(request, username=form.cleaned_data["username"],
                                password=form.cleaned_data["password"])
            if user is not None:
                login(request, user)
                response = redirect(safe_next(request, reverse("web:home")))
                chosen = _chosen_language(request)
                if chosen and chosen != user.language:  # picked in the footer before logging in: it stays
                    accounts.update_profile(user, language=chosen)
                _remember_language(response, user.language)
                return response
            show_error(form, _("The username or password is not correct."))
        status = 400
    return render(request, "web/login.html", {"form": form, "next": safe_next(request, "")}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("web:public")


@login_required
@domain_errors
def settings_profile(request):
    user = request.user
    # interests have one editor, /settings/interests (the verticals, picked and learned): not a text field here
    initial = {"display_name": user.display_name, "bio": user.bio, "language": user.language, "locked": user.locked,
               "messages_from": user.messages_from}
    form = ProfileForm(request.POST or None, request.FILES or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            avatar = request.FILES.get("avatar")
            header = request.FILES.get("header")
            try:  # no transaction around it: a refused image still counts against the upload limit
                accounts.update_profile(
                    user, display_name=data["display_name"], bio=data["bio"], language=data["language"],
                    avatar=avatar.read(settings.MEDIA_MAX_BYTES + 1) if avatar else None,
                    header=header.read(settings.MEDIA_MAX_BYTES + 1) if header else None,
                    locked=data["locked"], messages_from=data["messages_from"] or None)
            except ValidationFailed as exc:
                user.refresh_from_db()
                show_error(form, exc, fields={"note": "bio", "file": "avatar" if avatar else "header"})
            else:
                translation.activate(user.language)
                messages.success(request, _("Your profile is saved."))
                response = redirect("web:settings")
                _remember_language(response, user.language)
                return response
        status = 422
    return render(request, "web/settings.html", {"form": form}, status=status)


@login_required
@domain_errors
def settings_password(request):
    form = PasswordForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                accounts.change_password(request.user, old_password=form.cleaned_data["old_password"],
                                         new_password=form.cleaned_data["new_password"])
            except ValidationFailed as exc:
                show_error(form, exc, fields={"password": "new_password"})
            else:
                update_session_auth_hash(request, request.user)
                messages.success(request, _("Your password is changed."))
                return redirect("web:settings")
        status = 422
    return render(request, "web/password.html", {"form": form}, status=status)


@login_required
@require_GET
def settings_apps(request):
    return render(request, "web/apps.html", {"apps": account_selectors.authorised_apps(request.user)})


@login_required
@require_POST
@domain_errors
def revoke_app(request, app_id: int):
    application = account_selectors.oauth_application(app_id)
    if application is None:
        raise NotFound(_("App not found."))
    accounts.revoke_tokens(request.user, application=application)
    messages.success(request, _("“%(name)s” can no longer use your account.") % {"name": application.name})
    return redirect("web:apps")


@login_required
@require_safe
def me(request):
    """"Me" (我): on a phone, the bottom tab that reaches everything the tabs don't (the top navigation's links)."""
    return render(request, "web/me.html", {})


# --- timelines ------------------------------------------------------------------------------

@domain_errors
def home(request):
    if not request.user.is_authenticated:
        return redirect("web:public")
    page = page_of(request)
    posts = home_timeline(request.user, page)
    # paid promotion: promoted posts slotted in (marked in the template), their impressions recorded
    shown, picks = promotion.splice_home_posts(request.user, posts, first_page=page.max_id is None)
    if picks:
        promotion_services.do_record_delivery(
            request.user, picks,
            reason=request_reason(request), device=device_class(request.META.get("HTTP_USER_AGENT", "")))
    return timeline_page(request, "web/home.html", {"compose": ComposeForm()}, shown, limit=page.limit,
                         next_max_id=posts[-1].pk if posts else None)  # paging follows the organic posts


@domain_errors
def public(request):
    page = page_of(request)
    viewer = viewer_of(request)
    posts = selectors.public_timeline(viewer, page)
    return timeline_page(request, "web/public.html", {}, posts, limit=page.limit)


@domain_errors
def tag(request, tag: str):
    page = page_of(request)
    viewer = viewer_of(request)
    posts = selectors.tag_timeline(viewer, tag, page)
    return timeline_page(request, "web/tag.html", {"tag": tag.lower().lstrip("#")}, posts, limit=page.limit)


@domain_errors
def profile(request, username: str):
    account = account_or_404(username)
    page = page_of(request)
    viewer = viewer_of(request)
    posts = selectors.account_timeline(viewer, account, page)
    context = {"account": account, "rel": _relationship(request, account),
               "may_message": viewer is not None and selectors.may_message(viewer, account)}
    return timeline_page(request, "web/profile.html", context, posts, limit=page.limit)


def _relationship(request, account):
    if not request.user.is_authenticated or request.user.pk == account.pk:
        return None
    return selectors.relationships(request.user, [account.pk])[0]


@domain_errors
def follow_list(request, username: str, which: str):
    account = account_or_404(username)
    page = page_of(request)
    select = selectors.followers if which == "followers" else selectors.following
    users, _first, last = select(account, page)
    return render(request, "web/follow_list.html", {
        "account": account, "which": which, "users": users,
        "next_max_id": last if len(users) >= page.limit else None,
    })


@login_required
@domain_errors
def bookmarks(request):
    page = page_of(request)
    posts, _first, last = selectors.bookmarked_posts(request.user, page)
    return timeline_page(request, "web/bookmarks.html", {}, posts, next_max_id=last, limit=page.limit)


@login_required
@domain_errors
def follow_requests(request):
    page = page_of(request)
    users, _first, last = selectors.follow_requests(request.user, page)
    return render(request, "web/follow_requests.html", {
        "users": users, "next_max_id": last if len(users) >= page.limit else None,
    })


FOLLOW_REQUEST_ACTIONS = {
    "authorize": (social.do_authorize_follow_request, _("You approved @%(name)s's request: they follow you now.")),
    "reject": (social.do_reject_follow_request, _("You declined @%(name)s's request.")),
}


@login_required
@require_POST
@domain_errors
def follow_request_action(request, username: str, action: str):
    if action not in FOLLOW_REQUEST_ACTIONS:
        raise Http404
    account = account_or_404(username)
    service, done = FOLLOW_REQUEST_ACTIONS[action]
    service(request.user, account)
    if request.htmx:  # the row is replaced by what happened
        return render(request, "web/_follow_request_done.html", {"message": done % {"name": account.username}})
    messages.success(request, done % {"name": account.username})
    return redirect(safe_next(request, reverse("web:follow_requests")))


@login_required
@domain_errors
def notifications(request):
    page = page_of(request)
    items = selectors.notifications_page(request.user, page)
    if items and page.max_id is None:
        social.do_mark_notifications_read(request.user, up_to_id=items[0].pk)
    return render(request, "web/notifications.html", {
        "items": items, "next_max_id": items[-1].pk if len(items) >= page.limit else None,
    })


@domain_errors
def search(request):
    q = (request.GET.get("q") or "").strip()[:200]
    viewer = viewer_of(request)
    context = {"q": q, "accounts": [], "hashtags": [], "posts": [], "state": None}
    if q:
        context["accounts"] = selectors.search_accounts(q, limit=10, viewer=viewer)
        context["hashtags"] = selectors.search_hashtags(q, limit=10)
        posts = selectors.search_posts(q, viewer, limit=PAGE_SIZE)
        context["posts"] = posts
        context["state"] = selectors.hydrate(posts, viewer)
    return render(request, "web/search.html", context)


# --- posts ----------------------------------------------------------------------------------

@domain_errors
def post_detail(request, post_id: int):
    post = post_or_404(request, post_id)
    if post.reblog_of_id:
        return redirect("web:post", post_id=post.reblog_of_id)
    viewer = viewer_of(request)
    ancestors, descendants = selectors.thread_context(viewer, post)
    state = selectors.hydrate([*ancestors, post, *descendants], viewer)
    reply = ComposeForm(initial={"in_reply_to": post.pk, "text": f"@{post.author.username} "
                                 if viewer and viewer.pk != post.author_id else ""})
    return render(request, "web/post.html", {
        "post": post, "ancestors": ancestors, "descendants": descendants, "state": state, "compose": reply,
    })


@login_required
@domain_errors
def compose(request):
    if request.method != "POST":  # a reload or a bookmark of the page a refused post left: the composer is home
        return redirect("web:home")
    form = ComposeForm(request.POST)
    files = request.FILES.getlist("images")
    reply_to = None
    error = None
    refused: DomainError | None = None
    if not form.is_valid():
        error = _("Check the form and try again.")
    elif len(files) > settings.POST_MAX_MEDIA:
        error = _("A post has at most %(n)d images.") % {"n": settings.POST_MAX_MEDIA}
    else:
        data = form.cleaned_data
        reply_to = data.get("in_reply_to")
        media = []
        try:
            # not in one transaction, so every image tried counts against the upload limit even when
            # something is refused; then the images already made are removed, no media row is left behind
            try:
                for f in files:
                    media.append(social.do_upload_media(request.user, f.read(settings.MEDIA_MAX_BYTES + 1)))
                post = social.do_create_post(
                    request.user, text=data["text"], media_ids=[m.pk for m in media],
                    in_reply_to_id=reply_to, visibility=data.get("visibility") or "public")
            except DomainError:
                social.do_discard_media(request.user, media)
                raise
        except (ValidationFailed, RateLimited) as exc:  # a flood refused: the text stays in the form
            error = error_text(exc)
            refused = exc
        else:
            if post.held:
                messages.warning(request, _("Your post is held for review: it looks like a spam keyword list. "
                                            "Only you can see it until an operator releases it."))
            else:
                messages.success(request, _("Posted."))
            if post.conversation_id is not None:  # a direct message: its conversation in the inbox
                return redirect(reverse("web:message_thread", args=[post.conversation_id]) + f"#post-{post.pk}")
            if reply_to:
                return redirect(reverse("web:post", args=[reply_to]) + f"#post-{post.pk}")
            return redirect(safe_next(request, reverse("web:home")))
    # re-show the form with the text kept, so nothing typed is lost
    show_error(form, error)
    viewer = request.user
    if reply_to:
        parent = selectors.get_post(viewer, reply_to)
        if parent is not None:
            ancestors, descendants = selectors.thread_context(viewer, parent)
            state = selectors.hydrate([*ancestors, parent, *descendants], viewer)
            response = render(request, "web/post.html", {
                "post": parent, "ancestors": ancestors, "descendants": descendants, "state": state,
                "compose": form}, status=refused.status if refused else 422)
            return _retry_after(response, refused)
    page = page_from({}, default_limit=PAGE_SIZE)
    posts = home_timeline(viewer, page)
    response = timeline_page(request, "web/home.html", {"compose": form}, posts)
    response.status_code = refused.status if refused else 422
    return _retry_after(response, refused)


def _retry_after(response: HttpResponse, refused: DomainError | None) -> HttpResponse:
    if isinstance(refused, RateLimited):
        response["Retry-After"] = str(refused.retry_after)
    return response


@login_required
@require_POST
@domain_errors
def delete_post(request, post_id: int):
    post = post_or_404(request, post_id)
    social.do_delete_post(request.user, post)
    messages.success(request, _("Your post is deleted."))
    if request.htmx:
        return HttpResponse("")
    return redirect(safe_next(request, reverse("web:profile", args=[request.user.username])))


POST_ACTIONS = {
    "like": social.do_favourite,
    "unlike": social.do_unfavourite,
    "repost": social.do_reblog,
    "unrepost": social.do_unreblog,
    "bookmark": social.do_bookmark,
    "unbookmark": social.do_unbookmark,
}


@login_required
@require_POST
@domain_errors
def post_action(request, post_id: int, action: str):
    if action not in POST_ACTIONS:
        raise Http404
    post = post_or_404(request, post_id)
    POST_ACTIONS[action](request.user, post)
    shown = post_or_404(request, post.reblog_of_id or post.pk)  # fresh counts
    if request.htmx:
        state = selectors.hydrate([shown], request.user)
        return render(request, "web/_post_actions.html", {"shown": shown, "state": state})
    return redirect(safe_next(request, reverse("web:post", args=[shown.pk])))


ACCOUNT_ACTIONS = {
    "follow": social.do_follow,
    "unfollow": social.do_unfollow,
    "block": social.do_block,
    "unblock": social.do_unblock,
    "mute": social.do_mute,
    "unmute": social.do_unmute,
}


@login_required
@require_POST
@domain_errors
def account_action(request, username: str, action: str):
    if action not in ACCOUNT_ACTIONS:
        raise Http404
    account = account_or_404(username)
    ACCOUNT_ACTIONS[action](request.user, account)
    account = account_or_404(username)  # fresh counts
    if request.htmx:  # the controls, and the profile's counts out of band (a follow changes them at once)
        context = {"account": account, "rel": _relationship(request, account), "oob": True}
        html = render_to_string("web/_account_controls.html", context, request)
        if urlsplit(request.htmx.current_url or "").path == reverse("web:profile", args=[account.username]):
            html += render_to_string("web/_profile_counts.html", context, request)  # only where the counts are
        return HttpResponse(html)
    return redirect(safe_next(request, reverse("web:profile", args=[account.username])))


# --- media ----------------------------------------------------------------------------------

@require_GET
def media(request, path: str):
    """Serve an uploaded image from MEDIA_ROOT (production runs without DEBUG static serving)."""
    try:
        full = Path(safe_join(str(settings.MEDIA_ROOT), path))
    except (SuspiciousFileOperation, ValueError):
        raise Http404 from None
    if full.suffix.lower() not in MEDIA_SUFFIXES or not full.is_file():
        raise Http404
    content_type = mimetypes.guess_type(full.name)[0] or "application/octet-stream"
    response = FileResponse(full.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=31536000, immutable"  # names are random, never reused
    return response
