from django.conf import settings


def site(request):
    context = {"SITE_NAME": settings.SITE_NAME, "POST_MAX_CHARS": settings.POST_MAX_CHARS}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from tastemaker.social.selectors import unread_notifications_count

        context["unread_notifications"] = unread_notifications_count(user)
    return context
