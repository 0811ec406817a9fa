from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme


def _here(request) -> str:
    """Where a form should come back to: this page for GET, else the page the POST came from."""
    if request.method == "GET":
        return request.get_full_path()
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/"


def site(request):
    context = {"SITE_NAME": settings.SITE_NAME, "POST_MAX_CHARS": settings.POST_MAX_CHARS, "here": _here(request)}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from tastemaker.social.selectors import unread_notifications_count

        context["unread_notifications"] = unread_notifications_count(user)
        from tastemaker.social.selectors import unread_conversations_count

        unread_messages = unread_conversations_count(user)
        context["unread_messages"] = unread_messages  # the inbox badge (direct messages)
        from tastemaker.moderation.selectors import queue_count, unread_notices_count

        unread_notices = unread_notices_count(user)
        context["unread_notices"] = unread_notices  # the moderators' notices (credit page)
        # a phone's "Me" tab reaches both (the credit page and the inbox): its badge counts both
        context["me_badge"] = unread_notices + unread_messages
        if user.is_staff:
            context["open_cases"] = queue_count()
        if user.locked:  # only a locked account has follow requests (unlocking approves them all)
            from tastemaker.social.selectors import follow_requests_count

            context["pending_follow_requests"] = follow_requests_count(user)
    return context
