"""The web inbox of direct messages (issue 14): the conversation list with its requests tab, a conversation
with its reply box (text and images, as the composer takes them) kept live by htmx polling, the actions on a
conversation (read, remove, accept, decline) and a new message from a profile. Thin: who may message whom and
who sees what are ``social``'s (``conversations.admit``, ``visibility``)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from tastemaker.core.errors import DomainError, Forbidden, NotFound, RateLimited, ValidationFailed
from tastemaker.core.pagination import page_from
from tastemaker.social import selectors
from tastemaker.social import services as social
from tastemaker.social.models import Folder, Post

from .forms import MessageForm, error_text, show_error
from .helpers import PAGE_SIZE, account_or_404, domain_errors, page_of

FOLDERS = {"inbox": Folder.INBOX, "requests": Folder.REQUEST}
POLL_SECONDS = 4  # how often an open conversation asks for new messages


def _view_or_404(request, conversation_id: int) -> selectors.ConversationView:
    view = selectors.conversation(request.user, conversation_id)
    if view is None:
        raise NotFound(_("Conversation not found."))
    return view


@login_required
@require_safe
@domain_errors
def inbox(request):
    folder = request.GET.get("folder") if request.GET.get("folder") in FOLDERS else "inbox"
    page = page_of(request)
    views, _first, last = selectors.conversations(request.user, page, FOLDERS[folder])
    return render(request, "web/messages.html", {
        "views": views, "folder": folder, "requests_count": selectors.message_requests_count(request.user),
        "next_max_id": last if len(views) >= page.limit else None,
    })


def _send(request, form: MessageForm, **fields) -> tuple[Post | None, str | None, DomainError | None]:
    """Upload the images and write the message; on a refusal, the uploads are discarded and the text kept."""
    files = request.FILES.getlist("images")
    if not form.is_valid():
        return None, _("Check the form and try again."), None
    if len(files) > settings.POST_MAX_MEDIA:
        return None, _("A post has at most %(n)d images.") % {"n": settings.POST_MAX_MEDIA}, None
    media = []
    try:
        try:
            for f in files:
                media.append(social.do_upload_media(request.user, f.read(settings.MEDIA_MAX_BYTES + 1)))
            post = social.do_create_post(request.user, text=form.cleaned_data["text"], visibility="direct",
                                         media_ids=[m.pk for m in media], **fields)
        except DomainError:
            social.do_discard_media(request.user, media)
            raise
    except DomainError as exc:
        return None, error_text(exc), exc
    return post, None, None


def _thread_context(request, view, page) -> dict:
    posts = selectors.conversation_messages(request.user, view.id, page)
    shown = list(reversed(posts))  # oldest first, as a chat reads
    return {"view": view, "posts": shown, "state": selectors.hydrate(shown, request.user),
            "older_max_id": posts[-1].pk if len(posts) >= page.limit else None, "poll_seconds": POLL_SECONDS,
            "newest": posts[0] if posts else None}


@login_required
@domain_errors
def thread(request, conversation_id: int):
    view = _view_or_404(request, conversation_id)
    form = MessageForm(request.POST or None)
    status, refused = 200, None
    if request.method == "POST":  # a reply: to the newest message, so it reaches everyone in the conversation
        newest = selectors.conversation_messages(request.user, view.id, page_from({}, default_limit=1))
        if newest:
            post, error, refused = _send(request, form, in_reply_to_id=newest[0].pk)
        else:  # nothing in it the viewer may see: the others are hidden (a block, a suspension)
            post, error = None, _("You cannot write in this conversation: one of you has blocked the other, or "
                                  "the other account is suspended.")
            refused = Forbidden(error)
        if post is not None:
            return redirect(reverse("web:message_thread", args=[view.id]) + f"#post-{post.pk}")
        show_error(form, refused or error or "")
        status = refused.status if refused else 422
    page = page_of(request)
    if view.unread and page.max_id is None:
        social.do_mark_conversation_read(request.user, view.id)
    response = render(request, "web/message_thread.html", {**_thread_context(request, view, page), "form": form},
                      status=status)
    if isinstance(refused, RateLimited):
        response["Retry-After"] = str(refused.retry_after)
    return response


@login_required
@require_safe
@domain_errors
def updates(request, conversation_id: int):
    """The newest messages, for the open conversation's polling (htmx swaps them in); marks it read."""
    view = _view_or_404(request, conversation_id)
    if view.unread:
        social.do_mark_conversation_read(request.user, view.id)
    return render(request, "web/_message_list.html",
                  _thread_context(request, view, page_from({}, default_limit=PAGE_SIZE)))


ACTIONS = {
    "read": (social.do_mark_conversation_read, ""),
    "remove": (social.do_remove_conversation, _("The conversation is removed from your list.")),
    "accept": (social.do_accept_conversation, _("Request accepted: the conversation is in your inbox.")),
    "decline": (social.do_decline_conversation, _("Request declined.")),
}


@login_required
@require_POST
@domain_errors
def action(request, conversation_id: int, action: str):
    if action not in ACTIONS:
        raise Http404
    view = _view_or_404(request, conversation_id)
    service, done = ACTIONS[action]
    service(request.user, view.id)
    if done:
        messages.success(request, done)
    if action == "accept":
        return redirect("web:message_thread", conversation_id=view.id)
    if request.htmx:
        return HttpResponse("")
    return redirect(reverse("web:messages") + ("?folder=requests" if view.folder == Folder.REQUEST else ""))


@login_required
@domain_errors
def new_message(request, username: str):
    """A first message to an account (the profile's "Message" button)."""
    account = account_or_404(username)
    if account.pk == request.user.pk:
        raise ValidationFailed(_("You cannot send a message to yourself."))
    form = MessageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        post, error, refused = _send(request, form, recipients=[account])
        if post is not None:
            return redirect(reverse("web:message_thread", args=[post.conversation_id]) + f"#post-{post.pk}")
        show_error(form, refused or error or "")
        status = refused.status if refused else 422
    return render(request, "web/message_new.html", {"account": account, "form": form}, status=status)
