"""How a password log-in is checked: the one place for it, whatever asks.

The web log-in page, the admin's log-in page and the OAuth password grant all end in
``django.contrib.auth.authenticate``, which calls this backend, so the log-in rate limits live here:

- every attempt counts against the client's address (``RATE_LOGIN_IP``, the address from
  ``trust.ratelimit.client_ip``, so behind a trusted proxy it is the real client's);
- every failed attempt counts against the account named (``RATE_LOGIN_ACCOUNT``, from any address:
  a password guesser spread over many addresses still stops); a successful log-in clears them.

Over either limit the attempt is refused before the password is looked at, so even the right
password fails until the window slides: ``RateLimited`` (429 with Retry-After) propagates to the
caller, which shows it as its own kind of message.
"""

from django.contrib.auth.backends import ModelBackend

from tastemaker.trust import ratelimit

from .models import User


class UsernameOrEmailBackend(ModelBackend):
    """Log in with a username (any case) or an e-mail address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        if request is not None:
            ratelimit.check_and_hit("login", ratelimit.client_ip(request), "RATE_LOGIN_IP")
        field = "email__iexact" if "@" in username else "username__iexact"
        user = User.objects.filter(**{field: username}).order_by("id").first()
        # failures of an unknown name are counted too, under the name: the answer is the same either way
        account = user.pk if user is not None else f"name:{username.strip().lower()[:100]}"
        ratelimit.check("login-account", account, "RATE_LOGIN_ACCOUNT")
        if user is None:
            User().set_password(password)  # same work either way: no user enumeration by timing
            ratelimit.hit("login-account", account, "RATE_LOGIN_ACCOUNT")
            return None
        # a suspended account may still sign in on the web, to read why and appeal: everything else is closed
        # to it (web.middleware.SuspendedAccountMiddleware); apps get no token (accounts.oauth) and its
        # tokens were revoked
        if user.check_password(password) and self.user_can_authenticate(user):
            ratelimit.reset("login-account", account)
            return user
        ratelimit.hit("login-account", account, "RATE_LOGIN_ACCOUNT")
        return None
