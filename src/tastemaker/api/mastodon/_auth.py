"""The authentication classes the Mastodon resources share (one instance each)."""

from ..auth import AppOrUserAuth, BearerAuth, OptionalAuth

user_auth = BearerAuth()
optional_auth = OptionalAuth()
app_auth = AppOrUserAuth()
