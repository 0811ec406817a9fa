"""Typed settings from environment variables, all prefixed ``TASTEMAKER_``.

Embedded defaults: SQLite (WAL) and huey on SQLite under ``TASTEMAKER_DATA_DIR`` (``./var``).
Production: ``TASTEMAKER_DATABASE_URL=postgres://…`` and ``TASTEMAKER_REDIS_URL=redis://…``.
"""

from __future__ import annotations

import os
import secrets
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PREFIX = "TASTEMAKER_"


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(PREFIX + name, default)


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def env_bool(name: str, default: bool = False) -> bool:
    """A yes/no switch; anything but the words below (any case) stops the start, naming them."""
    raw = os.environ.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise RuntimeError(f"{PREFIX}{name} must be one of {', '.join(TRUE_WORDS + FALSE_WORDS)}, got {raw!r}")


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of a fixed set of modes (compared in lower case); an unknown one stops the start, naming the allowed
    values, instead of quietly behaving like none of them."""
    raw = env_str(name, default)
    value = raw.strip().lower()
    if value not in choices:
        raise RuntimeError(f"{PREFIX}{name} must be one of {', '.join(choices)}, got {raw!r}")
    return value


def env_choices(name: str, default: str, choices: tuple[str, ...]) -> list[str]:
    """A comma-separated list, each item one of ``choices`` (lower case); an unknown one stops the start."""
    values = [item.lower() for item in env_list(name, default)]
    unknown = [item for item in values if item not in choices]
    if unknown:
        raise RuntimeError(f"{PREFIX}{name} items must be among {', '.join(choices)}, got {', '.join(map(repr, unknown))}")
    return values


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:  # a typo in configuration should stop the start, loudly
        raise RuntimeError(f"{PREFIX}{name} must be an integer, got {raw!r}") from exc


def env_int_at_least(name: str, default: int, minimum: int) -> int:
    value = env_int(name, default)
    if value < minimum:
        raise RuntimeError(f"{PREFIX}{name} must be an integer of at least {minimum}, got {value}")
    return value


def env_int_between(name: str, default: int, minimum: int, maximum: int) -> int:
    value = env_int(name, default)
    if not minimum <= value <= maximum:
        raise RuntimeError(f"{PREFIX}{name} must be an integer from {minimum} to {maximum}, got {value}")
    return value


def env_fraction(name: str, default: float) -> float:
    """A number from 0 to 1 (a confidence, a share)."""
    raw = env_str(name, str(default)).strip()
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise RuntimeError(f"{PREFIX}{name} must be a number from 0 to 1, got {raw!r}")
    return value


def env_rate(name: str, default: str) -> str:
    """A rate limit as "count/seconds", both whole numbers of at least 1."""
    raw = env_str(name, default).strip()
    count, slash, seconds = raw.partition("/")
    if not (slash and count.isdigit() and seconds.isdigit() and int(count) >= 1 and int(seconds) >= 1):
        raise RuntimeError(f"{PREFIX}{name} must be a rate limit as count/seconds (e.g. 30/300), got {raw!r}")
    return raw


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def parse_networks(name: str, raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated IP addresses or CIDR ranges; a malformed one stops the start, naming it."""
    import ipaddress

    networks: list[IPv4Network | IPv6Network] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise RuntimeError(
                f"{PREFIX}{name}: {item!r} is not an IP address or CIDR range (e.g. 10.0.0.1 or 10.0.0.0/8)"
            ) from exc
    return tuple(networks)


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("DATA_DIR", str(Path.cwd() / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    given = env_str("SECRET_KEY")
    if given:
        return given
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")
SITE_NAME = env_str("SITE_NAME", "Tastemaker")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
ADMIN_EMAIL = env_str("ADMIN_EMAIL", "admin@tastemaker.local")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "oauth2_provider",
    "huey.contrib.djhuey",
    "tastemaker.core",
    "tastemaker.accounts",
    "tastemaker.social",
    "tastemaker.feeds",
    "tastemaker.trust",
    "tastemaker.analytics",
    "tastemaker.experts",
    "tastemaker.discovery",
    "tastemaker.showcase",
    "tastemaker.payments",
    "tastemaker.moderation",
    "tastemaker.promotion",
    "tastemaker.fanservice",
    "tastemaker.connect",
    "tastemaker.api",
    "tastemaker.web",
    "tastemaker.demo",
]

# Who reacts to what (core.hooks): a lower app calls its named hook points, and the apps above it that
# react are listed here, in order, as dotted paths, so the imports keep pointing downwards (feeds and
# analytics import social, social imports neither). An unknown name or a path that does not import is a
# start-up error. Not an environment setting: this is wiring, the same in every deployment.
HOOKS = {
    # accounts: an account that unlocks accepts its pending follow requests
    "accounts.unlocked": ["tastemaker.social.account_hooks.unlocked"],
    # accounts: a credit score reached 0 (the moderation app suspends the account, audited)
    "accounts.credit_exhausted": ["tastemaker.moderation.services.credit_exhausted"],
    # social: a post or repost was written (inside its transaction): the author's own home-feed entry at
    # once, the fan-out after commit
    "social.post_created": ["tastemaker.feeds.social_hooks.post_created", "tastemaker.feeds.streaming.post_created"],
    # social: a post is about to be deleted, a notification was made (the streaming API's delete and
    # notification events, after commit: feeds/streaming.py)
    "social.post_deleted": ["tastemaker.feeds.streaming.post_deleted"],
    "social.notified": ["tastemaker.feeds.streaming.notified"],
    # social: a follow was made or ended, a block was placed (inside the transaction)
    "social.followed": ["tastemaker.feeds.social_hooks.followed", "tastemaker.analytics.social_hooks.followed",
                        "tastemaker.promotion.hooks.followed", "tastemaker.fanservice.hooks.followed"],
    "social.unfollowed": ["tastemaker.feeds.social_hooks.unfollowed",
                          "tastemaker.analytics.social_hooks.unfollowed", "tastemaker.promotion.hooks.unfollowed"],
    "social.blocked": ["tastemaker.feeds.social_hooks.blocked"],
    # social: a like, repost or reply (the analytics event is recorded after commit)
    "social.engaged": ["tastemaker.analytics.social_hooks.engaged"],
    # social: which of these stored image files something above social still shows (the media sweep
    # keeps them)
    "social.files_in_use": ["tastemaker.showcase.social_hooks.files_in_use",
                            "tastemaker.fanservice.hooks.files_in_use"],
    # showcase: a store's catalog update lowered an offer's price or brought it back in stock (inside the
    # update's transaction; the fan service's price alerts fan out in a job after commit)
    "showcase.product_changed": ["tastemaker.fanservice.hooks.product_changed"],
    # moderation: an account was suspended or its suspension lifted (promotion pauses campaigns, the fan
    # service cancels scheduled broadcasts)
    "moderation.suspended": ["tastemaker.promotion.hooks.suspended", "tastemaker.fanservice.hooks.suspended"],
    "moderation.restored": [],
    # social: the rules caught an offence (flooding, mass mentions, mass replies, spam, keyword stuffing), once
    # per account and kind within RULES_OFFENCE_ONCE_SECONDS (the moderation app turns repeats into cases)
    "social.rule_offence": ["tastemaker.moderation.services.rule_offence"],
    # social: a post was held for review by the spam filter (the moderation app queues it)
    "social.post_held": ["tastemaker.moderation.services.post_held"],
    # social: a direct message was written (inside its transaction; post=, recipients=): streaming and the fan
    # service platform wire their consumers here
    "social.direct_message": ["tastemaker.feeds.streaming.direct_message",
                              "tastemaker.fanservice.hooks.direct_message"],
    # accounts: a profile field was refused by the spam filter (social passes it on as social.rule_offence)
    "accounts.rule_offence": ["tastemaker.social.account_hooks.rule_offence"],
}

MIDDLEWARE = [
    "tastemaker.core.middleware.ProxyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tastemaker.core.middleware.ContentSecurityPolicyMiddleware",
    "tastemaker.core.middleware.ApiTrailingSlashMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "tastemaker.core.middleware.InputGuardMiddleware",  # after the locale: messages in the user's language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tastemaker.web.middleware.SuspendedAccountMiddleware",  # a suspended account: its credit page only
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tastemaker.core.middleware.RateLimitedMiddleware",
]

ROOT_URLCONF = "tastemaker.urls"
WSGI_APPLICATION = "tastemaker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],  # project-wide overrides (e.g. the OAuth consent page)
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tastemaker.web.context.site",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'tastemaker.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 600))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000; "
            "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456; PRAGMA cache_size=-65536;"
        ),
    }
else:
    _db.setdefault("OPTIONS", {})
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background jobs ------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", False)  # explicit: huey would otherwise follow DEBUG
if REDIS_URL:
    from huey import RedisHuey

    HUEY = RedisHuey("tastemaker", url=REDIS_URL, immediate=HUEY_IMMEDIATE)
else:
    from huey import SqliteHuey

    HUEY = SqliteHuey("tastemaker", filename=str(DATA_DIR / "huey.sqlite3"), immediate=HUEY_IMMEDIATE)

# --- streaming API (Mastodon's /api/v1/streaming; core/streams.py, api/streaming.py) ----------------
# how events reach the streaming server: auto = Redis when TASTEMAKER_REDIS_URL is set, else PostgreSQL
# LISTEN/NOTIFY on PostgreSQL, else local Unix sockets under DATA_DIR/streams (SQLite); off = publish nothing
STREAM_BACKEND = env_choice("STREAM_BACKEND", "auto", ("auto", "redis", "postgres", "socket", "off"))
if STREAM_BACKEND == "redis" and not REDIS_URL:
    raise RuntimeError(f"{PREFIX}STREAM_BACKEND=redis needs {PREFIX}REDIS_URL")
# where clients find the streaming server (/api/v1/instance urls.streaming_api): empty = the site itself
# (one host name, the proxy sends /api/v1/streaming to it); `tastemaker serve` sets it to its stream port
STREAMING_URL = env_str("STREAMING_URL").rstrip("/")
if STREAMING_URL and not STREAMING_URL.startswith(("http://", "https://", "ws://", "wss://")):
    raise RuntimeError(f"{PREFIX}STREAMING_URL must start with one of https://, http://, wss://, ws://, "
                       f"got {STREAMING_URL!r}")
STREAM_HEARTBEAT = env_int_between("STREAM_HEARTBEAT", 15, 1, 300)  # seconds between SSE comment lines
STREAM_MAX_CONNECTIONS = env_int_at_least("STREAM_MAX_CONNECTIONS", 10_000, 1)  # per streaming process

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:public"

# Mastodon's tokens never expire, and most Mastodon clients never refresh; ours live a month (a
# client that refreshes keeps going, one that does not logs in again monthly), and a token able to
# move money or read store secrets lives an hour. A password change revokes them all at once.
TOKEN_LIFETIME = env_int("TOKEN_LIFETIME", 30 * 24 * 3600)
MONEY_TOKEN_LIFETIME = env_int("MONEY_TOKEN_LIFETIME", 3600)  # tokens with the payments or stores scope
REFRESH_TOKEN_LIFETIME = env_int("REFRESH_TOKEN_LIFETIME", 90 * 24 * 3600)
for _name in ("TOKEN_LIFETIME", "MONEY_TOKEN_LIFETIME", "REFRESH_TOKEN_LIFETIME"):
    if globals()[_name] <= 0:
        raise RuntimeError(f"{PREFIX}{_name} must be a positive number of seconds, got {globals()[_name]}")
OAUTH2_PROVIDER_APPLICATION_MODEL = "accounts.OAuthApplication"
OAUTH2_PROVIDER = {
    "SCOPES": {
        "read": "read your data",
        "write": "change your data",
        "follow": "manage your follows, blocks and mutes",
        "push": "receive push notifications",
        "profile": "read your profile",
        # not part of read or write (what every Mastodon client asks for): asked for explicitly
        "payments": "read balances and move money",
        "stores": "create partner stores and rotate their secret keys",
    },
    "DEFAULT_SCOPES": ["read"],
    # per token: TOKEN_LIFETIME, or MONEY_TOKEN_LIFETIME with payments/stores (accounts.oauth.token_lifetime)
    "ACCESS_TOKEN_EXPIRE_SECONDS": TOKEN_LIFETIME,
    "REFRESH_TOKEN_EXPIRE_SECONDS": REFRESH_TOKEN_LIFETIME,  # counted from the access token's expiry
    "PKCE_REQUIRED": False,  # Mastodon clients do not send it; S256 is checked when a client does
    # plus each app's own private-use schemes for native apps (OAuthApplication.get_allowed_schemes)
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http", "urn"],
    "OAUTH2_VALIDATOR_CLASS": "tastemaker.accounts.oauth.Validator",
    # Mastodon clients (and Mastodon.py) still use the password grant; keep it, rate-limited per IP
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": False,
    # store only a checksum of each token, never the token itself
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_TZ = True

# --- files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- security behind a proxy and over TLS ----------------------------------------------------
# Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto we believe: comma-separated addresses
# or CIDR ranges, e.g. "127.0.0.1,10.0.0.0/8". Empty: the peer address is the client, and the
# forwarded headers are ignored (anyone can send them). See trust.ratelimit.client_ip.
TRUSTED_PROXIES = parse_networks("TRUSTED_PROXIES", env_str("TRUSTED_PROXIES"))
# the site is served over https (directly, or by a proxy that terminates TLS): HSTS, Secure cookies
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600) if HTTPS else 0
if TRUSTED_PROXIES:
    # only believed from a trusted proxy: core.middleware.ProxyHeadersMiddleware drops it from anyone else
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# one policy for every page: no inline script or style anywhere (core.middleware.ContentSecurityPolicyMiddleware)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

LOG_LEVEL = env_choice("LOG_LEVEL", "WARNING", ("debug", "info", "warning", "error", "critical")).upper()

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # the huey consumer installs its own handler: don't print its lines twice
    "loggers": {"huey": {"level": "INFO", "handlers": [], "propagate": False}},
}

# --- product rules --------------------------------------------------------------------------
POST_MAX_CHARS = env_int("POST_MAX_CHARS", 2000)
POST_MAX_MEDIA = env_int("POST_MAX_MEDIA", 9)
MEDIA_MAX_PIXELS = env_int_at_least("MEDIA_MAX_PIXELS", 4096 * 4096, 1)  # checked from the header, before decoding
MEDIA_MAX_BYTES = env_int("MEDIA_MAX_BYTES", 10 * 1024 * 1024)
MEDIA_MAX_SIDE = env_int("MEDIA_MAX_SIDE", 2048)
# memory processing one image may take (pixels × bytes per pixel of the mode, plus a working copy for
# some modes: images.intake.decoded_bytes), also checked from the header before decoding
MEDIA_MAX_DECODE_BYTES = env_int_at_least("MEDIA_MAX_DECODE_BYTES", 128 * 1024 * 1024, 1)
MEDIA_DECODE_SLOTS = env_int_at_least("MEDIA_DECODE_SLOTS", 2, 1)  # images decoded at once on this host
MEDIA_DECODE_WAIT = env_int_at_least("MEDIA_DECODE_WAIT", 10, 0)  # seconds an upload waits for a slot, then 429
MEDIA_UNATTACHED_HOURS = env_int_at_least("MEDIA_UNATTACHED_HOURS", 24, 1)  # unused uploads are deleted after it
FANOUT_THRESHOLD = env_int("FANOUT_THRESHOLD", 10_000)  # above it: merged at read time (pull)
FANOUT_CHUNK = env_int("FANOUT_CHUNK", 5_000)
TIMELINE_CAP = env_int("TIMELINE_CAP", 800)
# a fan-out unfinished (or never started) this long after its last progress is run again by the sweep
FANOUT_STALE_MINUTES = env_int_at_least("FANOUT_STALE_MINUTES", 10, 1)
FANOUT_SWEEP_HOURS = env_int_at_least("FANOUT_SWEEP_HOURS", 24, 1)  # how far back the sweep looks for posts
# rate limits: "count/seconds"
RATE_POST = env_rate("RATE_POST", "300/10800")
RATE_FOLLOW = env_rate("RATE_FOLLOW", "400/86400")
# log-in attempts (web, admin, the OAuth password grant: accounts.backends) per client IP, and
# failed ones per account from any IP; over either, even the right password is refused until it ages out
RATE_LOGIN_IP = env_rate("RATE_LOGIN_IP", "30/300")
RATE_LOGIN_ACCOUNT = env_rate("RATE_LOGIN_ACCOUNT", "10/900")
RATE_REGISTER_IP = env_rate("RATE_REGISTER_IP", "20/3600")
RATE_INTERACT = env_rate("RATE_INTERACT", "1000/3600")
RATE_MEDIA = env_rate("RATE_MEDIA", "30/300")  # image uploads per user (API, compose, profile, cards)
# direct messages (issue 14) per sender, and the message requests among them (a new conversation with someone
# who does not follow the sender); the flood rules (social.rules) apply to messages as to posts
RATE_MESSAGE = env_rate("RATE_MESSAGE", "200/3600")
RATE_MESSAGE_REQUEST = env_rate("RATE_MESSAGE_REQUEST", "20/86400")
AUTHENTICATION_BACKENDS = ["tastemaker.accounts.backends.UsernameOrEmailBackend"]

# --- experts and discovery (issue 5) ----------------------------------------------------------
LABEL_WINDOW_DAYS = env_int("LABEL_WINDOW_DAYS", 90)  # "recent output" for ability labels
LABEL_MAX_POSTS = env_int("LABEL_MAX_POSTS", 300)  # newest posts looked at per creator
# a post below it counts for no vertical (0.5: 5% of hand-written off-topic posts still get a label, 92% of
# on-topic ones get the right one; docs/labels.md)
LABEL_MIN_CONFIDENCE = env_fraction("LABEL_MIN_CONFIDENCE", 0.5)
# the labeler's model is loaded (1-3 s) in a background thread when a web worker or the job consumer starts,
# and a request never waits for it ("background": until then a post is left unlabelled), or by the first
# caller, who waits ("blocking": the tests, with HUEY_IMMEDIATE)
LABELER_LOAD = env_choice("LABELER_LOAD", "blocking" if HUEY_IMMEDIATE else "background", ("background", "blocking"))
LABEL_MIN_SCORE = env_int("LABEL_MIN_SCORE", 20)  # a label shown on the profile needs at least this (0-100)
LABEL_SHOWN = env_int("LABEL_SHOWN", 3)  # labels shown on a profile
EXPERT_MIN_SCORE = env_int("EXPERT_MIN_SCORE", 50)  # to apply for expert status in a vertical
EXPERT_MIN_FOLLOWERS = env_int("EXPERT_MIN_FOLLOWERS", 50)
EXPERT_MIN_ACCOUNT_DAYS = env_int("EXPERT_MIN_ACCOUNT_DAYS", 7)
SUGGESTIONS_MAX = env_int("SUGGESTIONS_MAX", 40)

# --- analytics (events and reports) ----------------------------------------------------------
ANALYTICS_DEDUP_SECONDS = env_int("ANALYTICS_DEDUP_SECONDS", 1800)  # repeats by a viewer inside it are invalid
ANALYTICS_RAW_RETENTION_DAYS = env_int("ANALYTICS_RAW_RETENTION_DAYS", 90)  # raw events; counters are kept
ANALYTICS_MIN_VIEWERS = env_int("ANALYTICS_MIN_VIEWERS", 5)  # a breakdown cell below it shows as "<5"
ANALYTICS_MAX_BATCH = env_int("ANALYTICS_MAX_BATCH", 500)  # events per ingest request
ANALYTICS_EXTRA_BOTS_FILE = env_str("ANALYTICS_EXTRA_BOTS_FILE")  # more user-agent patterns, one per line
RATE_EVENTS = env_rate("RATE_EVENTS", "600/60")  # ingest requests per viewer (or IP)
# counters are rolled up from stored events: "thread" (a background thread per process, default),
# "inline" (right after each ingest: the tests), "off" (a dedicated `tastemaker rollup-stats` process)
ANALYTICS_ROLLUP = env_choice("ANALYTICS_ROLLUP", "inline" if HUEY_IMMEDIATE else "thread",
                              ("thread", "inline", "off"))
ANALYTICS_ROLLUP_INTERVAL_MS = env_int("ANALYTICS_ROLLUP_INTERVAL_MS", 100)  # coalesce what arrives meanwhile

# --- money (core.money) -----------------------------------------------------------------------
CURRENCIES = tuple(c.upper() for c in env_list("CURRENCIES", "CNY"))  # the first one is the default
DEFAULT_CURRENCY = CURRENCIES[0]

# --- showcase (issue 4) -----------------------------------------------------------------------
SHOWCASE_STALE_HOURS = env_int("SHOWCASE_STALE_HOURS", 72)  # older price/stock shows "check the price at the store"
SHOWCASE_ATTRIBUTION_DAYS = env_int("SHOWCASE_ATTRIBUTION_DAYS", 7)  # default for new partner stores
SHOWCASE_RETURN_DAYS = env_int("SHOWCASE_RETURN_DAYS", 15)  # default for new partner stores
SHOWCASE_COMMISSION_BP = env_int("SHOWCASE_COMMISSION_BP", 500)  # default rate, basis points (5 %)
# limits on what a store may set (a store's rate, a product's own rate, its windows); a brand changing any
# of them, its domains or its name sends an approved store back to review
SHOWCASE_MAX_COMMISSION_BP = env_int("SHOWCASE_MAX_COMMISSION_BP", 3000)  # a store's rate: at most 30 %
SHOWCASE_MAX_ITEM_COMMISSION_BP = env_int("SHOWCASE_MAX_ITEM_COMMISSION_BP", 3000)  # a catalog item's own rate
SHOWCASE_MIN_ATTRIBUTION_DAYS = env_int("SHOWCASE_MIN_ATTRIBUTION_DAYS", 1)
SHOWCASE_MAX_ATTRIBUTION_DAYS = env_int("SHOWCASE_MAX_ATTRIBUTION_DAYS", 90)
SHOWCASE_MIN_RETURN_DAYS = env_int("SHOWCASE_MIN_RETURN_DAYS", 7)  # commissions stay pending at least this long
SHOWCASE_MAX_RETURN_DAYS = env_int("SHOWCASE_MAX_RETURN_DAYS", 365)


def _check_showcase_limits() -> None:
    """A bad limit stops the start, naming what is allowed."""
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise RuntimeError(f"{PREFIX}{what}")

    for name, value in (("SHOWCASE_MAX_COMMISSION_BP", SHOWCASE_MAX_COMMISSION_BP),
                        ("SHOWCASE_MAX_ITEM_COMMISSION_BP", SHOWCASE_MAX_ITEM_COMMISSION_BP),
                        ("SHOWCASE_COMMISSION_BP", SHOWCASE_COMMISSION_BP)):
        need(0 <= value <= 10000, f"{name} must be basis points from 0 to 10000, got {value}")
    need(SHOWCASE_COMMISSION_BP <= SHOWCASE_MAX_COMMISSION_BP,
         f"SHOWCASE_COMMISSION_BP must be at most SHOWCASE_MAX_COMMISSION_BP ({SHOWCASE_MAX_COMMISSION_BP}), "
         f"got {SHOWCASE_COMMISSION_BP}")
    for kind, low, high, default, floor in (
            ("ATTRIBUTION", SHOWCASE_MIN_ATTRIBUTION_DAYS, SHOWCASE_MAX_ATTRIBUTION_DAYS, SHOWCASE_ATTRIBUTION_DAYS, 1),
            ("RETURN", SHOWCASE_MIN_RETURN_DAYS, SHOWCASE_MAX_RETURN_DAYS, SHOWCASE_RETURN_DAYS, 0)):
        need(floor <= low <= high <= 365, f"SHOWCASE_MIN_{kind}_DAYS and SHOWCASE_MAX_{kind}_DAYS must satisfy "
                                          f"{floor} <= min <= max <= 365, got {low} and {high}")
        need(low <= default <= high, f"SHOWCASE_{kind}_DAYS must be from {low} to {high}, got {default}")


_check_showcase_limits()
RATE_SHOWCASE_IMPORT = env_rate("RATE_SHOWCASE_IMPORT", "60/3600")  # product-page imports per user (each fetches)
RATE_STORE_CREATE = env_rate("RATE_STORE_CREATE", "10/86400")  # partner stores a user creates on the web
RATE_STORE_API = env_rate("RATE_STORE_API", "6000/60")  # catalog and webhook requests per partner store
SHOWCASE_WEBHOOK_TOLERANCE = env_int("SHOWCASE_WEBHOOK_TOLERANCE", 300)  # seconds either side of now
# click-outs: "thread" (queued in the process and written in batches every SHOWCASE_CLICK_INTERVAL_MS, default)
# or "inline" (written in the request: the tests). See showcase/clicks.py for the trade-off.
SHOWCASE_CLICKS = env_choice("SHOWCASE_CLICKS", "inline" if HUEY_IMMEDIATE else "thread", ("thread", "inline"))
SHOWCASE_CLICK_INTERVAL_MS = env_int("SHOWCASE_CLICK_INTERVAL_MS", 200)
# the guarded fetcher (core.fetch): what the server may download on a user's behalf
FETCH_MAX_BYTES = env_int("FETCH_MAX_BYTES", 2 * 1024 * 1024)
FETCH_TIMEOUT = env_int("FETCH_TIMEOUT", 8)  # seconds, connect and read each
FETCH_MAX_REDIRECTS = env_int("FETCH_MAX_REDIRECTS", 3)
# test-only: "host:port" pairs on loopback the fetcher may reach (fixture servers). Not read from the
# environment on purpose; only test code sets it (override_settings).
FETCH_TEST_ALLOW: frozenset[str] = frozenset()

# --- payments (issue 6) -----------------------------------------------------------------------
# providers offered, in order: "sandbox" (in-product, for development, tests and the `make run` demo;
# never on a public instance: it makes money up) or "alipay" (needs the ALIPAY_* below). Default: the
# sandbox only with DEBUG, else none. The sandbox together with a real provider is refused at start
# (check payments.E003): balances are per currency, so sandbox money could be withdrawn for real.
PAYMENT_PROVIDERS = env_choices("PAYMENT_PROVIDERS", "sandbox" if DEBUG else "", ("sandbox", "alipay"))
# where providers post asynchronous notifications, and where the payer's browser comes back to
PAYMENT_NOTIFY_URL = env_str("PAYMENT_NOTIFY_URL", SITE_URL + "/payments/notify/{provider}")
PAYMENT_RETURN_URL = env_str("PAYMENT_RETURN_URL", SITE_URL + "/wallet/topups/{order_no}")
PAYMENT_SANDBOX_CHECKOUT_URL = env_str("PAYMENT_SANDBOX_CHECKOUT_URL", "/payments/sandbox/checkout/{order_no}")
PAYMENT_SANDBOX_APP_ID = env_str("PAYMENT_SANDBOX_APP_ID", "tastemaker-sandbox")
PAYMENT_SANDBOX_SECRET = env_str("PAYMENT_SANDBOX_SECRET")  # empty: derived from SECRET_KEY
PAYMENT_SANDBOX_DELIVERY = env_choice("PAYMENT_SANDBOX_DELIVERY", "call", ("call", "http"))  # in-process, or POST
PAYMENT_SANDBOX_RETRIES = env_int("PAYMENT_SANDBOX_RETRIES", 7)  # notifications re-sent until "success"
PAYMENT_SANDBOX_RETRY_DELAY = env_int("PAYMENT_SANDBOX_RETRY_DELAY", 60)  # seconds
ALIPAY_APP_ID = env_str("ALIPAY_APP_ID")
ALIPAY_SELLER_ID = env_str("ALIPAY_SELLER_ID")  # the merchant PID (2088…): notifications must name it
ALIPAY_PRIVATE_KEY_FILE = env_str("ALIPAY_PRIVATE_KEY_FILE")  # our application private key (PEM)
ALIPAY_PUBLIC_KEY_FILE = env_str("ALIPAY_PUBLIC_KEY_FILE")  # Alipay's public key (PEM)
ALIPAY_SANDBOX = env_bool("ALIPAY_SANDBOX", False)  # Alipay's own sandbox gateway
ALIPAY_TIMEOUT = env_int("ALIPAY_TIMEOUT", 15)  # seconds per call
TOPUP_MIN = env_int("TOPUP_MIN", 100)  # minor units (1.00)
TOPUP_MAX = env_int("TOPUP_MAX", 5_000_000)  # minor units (50,000.00)
WITHDRAWAL_MIN = env_int("WITHDRAWAL_MIN", 100)  # minor units
# a newly bound (or re-bound) payout account receives withdrawals only this long after binding
PAYOUT_ACCOUNT_COOLDOWN_HOURS = env_int("PAYOUT_ACCOUNT_COOLDOWN_HOURS", 24)
RATE_PAYMENT_NOTIFY = env_rate("RATE_PAYMENT_NOTIFY", "600/60")  # notify requests per client IP (unauthenticated)
IDEMPOTENCY_TTL_HOURS = env_int("IDEMPOTENCY_TTL_HOURS", 72)  # stored responses of keyed money requests

# --- credit and rules (issue 12) ---------------------------------------------------------------
# the credit score (信用分) gates features; accounts.standing.gate is the one place that reads these.
# Every account starts at 80 (0–100). At or above: Showcase cards and Expert Connect 60, paid promotion 75;
# below CREDIT_LIMITED_BELOW an account's posts reach its followers only and it cannot message strangers;
# at 0 it is suspended.
CREDIT_SHOWCASE_MIN = env_int_at_least("CREDIT_SHOWCASE_MIN", 60, 0)
CREDIT_EXPERTS_MIN = env_int_at_least("CREDIT_EXPERTS_MIN", 60, 0)
CREDIT_PROMOTION_MIN = env_int_at_least("CREDIT_PROMOTION_MIN", 75, 0)
CREDIT_LIMITED_BELOW = env_int_at_least("CREDIT_LIMITED_BELOW", 40, 0)
# good standing restores points: this many per violation-free week, up to the starting score
CREDIT_WEEKLY_RESTORE = env_int_at_least("CREDIT_WEEKLY_RESTORE", 1, 0)
# reports (举报) a person may file, and how rules offences (throttled floods, mass mentions…) add up:
# RULES_OFFENCES_FOR_CASE within the RATE_RULE_OFFENCES window make a moderation case about the account
RATE_REPORT = env_rate("RATE_REPORT", "30/3600")
RATE_RULE_OFFENCES = env_rate("RATE_RULE_OFFENCES", "1000/86400")
RULES_OFFENCES_FOR_CASE = env_int_at_least("RULES_OFFENCES_FOR_CASE", 3, 1)
# the Showcase feeds the score: refund rate of a creator's attributed orders over 30 days above this
# (with at least SHOWCASE_RATE_MIN_ORDERS orders) costs SHOWCASE_RATES_DEDUCTION points, once a month
SHOWCASE_REFUND_RATE_LIMIT = env_fraction("SHOWCASE_REFUND_RATE_LIMIT", 0.3)
SHOWCASE_RATE_MIN_ORDERS = env_int_at_least("SHOWCASE_RATE_MIN_ORDERS", 10, 1)
SHOWCASE_RATES_DEDUCTION = env_int_at_least("SHOWCASE_RATES_DEDUCTION", 5, 0)

# --- paid promotion (issue 13) ----------------------------------------------------------------------
# a follow gained by a CPF campaign is billed only once it has lasted this long (undone sooner: refunded)
PROMOTION_FOLLOW_WINDOW = env_int_at_least("PROMOTION_FOLLOW_WINDOW", 86400, 0)  # seconds
# Passer-by items go into the home feed after every SLOT_EVERY organic items, at most PER_PAGE per page
PROMOTION_SLOT_EVERY = env_int_between("PROMOTION_SLOT_EVERY", 10, 2, 100)
PROMOTION_PER_PAGE = env_int_between("PROMOTION_PER_PAGE", 2, 0, 10)
# promoted items one person sees per day, across all advertisers
PROMOTION_DAILY_CAP = env_int_between("PROMOTION_DAILY_CAP", 6, 0, 100)
# how long the list of active campaigns is cached per process for the ad decision (seconds; 0: not cached)
PROMOTION_CACHE_SECONDS = env_int_between("PROMOTION_CACHE_SECONDS", 5, 0, 300)
# the smallest bid (minor units: per 1,000 impressions or followers for CPM, per follow for CPF) and budget
PROMOTION_MIN_BID = env_int_at_least("PROMOTION_MIN_BID", 100, 1)
PROMOTION_MIN_BUDGET = env_int_at_least("PROMOTION_MIN_BUDGET", 1000, 1)
# when the capture job runs (seconds between runs) and what the automatic review treats as keyword stuffing:
# one word making up more than this share of a post's words (posts of at least 8 words)
# promoted deliveries (serves, impression events, charges): "thread" (queued in the process and written in
# batches every PROMOTION_DELIVERY_INTERVAL_MS by a background thread: no home page waits for the write) or
# "inline" (written in the request: the tests). See promotion/services.py, do_record_delivery.
PROMOTION_DELIVERIES = env_choice("PROMOTION_DELIVERIES", "inline" if HUEY_IMMEDIATE else "thread", ("thread", "inline"))
PROMOTION_DELIVERY_INTERVAL_MS = env_int_between("PROMOTION_DELIVERY_INTERVAL_MS", 200, 10, 1000)
PROMOTION_SETTLE_SECONDS = env_int_between("PROMOTION_SETTLE_SECONDS", 5, 1, 60)
PROMOTION_STUFFING_SHARE = env_fraction("PROMOTION_STUFFING_SHARE", 0.3)
# campaigns and standing orders one account may create (count/seconds; trust.ratelimit)
RATE_PROMOTION = env_rate("RATE_PROMOTION", "30/3600")

# --- fan service platform (issue 14) -------------------------------------------------------------------
# broadcasts one account may start per UTC day (more wait for the next day) and broadcasts one fan receives
# per UTC day across all senders (the rest are deferred to a later day, never dropped)
FANSERVICE_SENDER_DAILY_CAP = env_int_between("FANSERVICE_SENDER_DAILY_CAP", 1, 1, 100)
FANSERVICE_FAN_DAILY_CAP = env_int_between("FANSERVICE_FAN_DAILY_CAP", 5, 1, 100)
# subscribers delivered per transaction by the broadcast job (one INSERT … SELECT per chunk)
FANSERVICE_CHUNK = env_int_between("FANSERVICE_CHUNK", 10000, 100, 50000)
# a watched product's price must fall by at least this many percent for a price-drop alert
FANSERVICE_ALERT_DROP_PERCENT = env_int_between("FANSERVICE_ALERT_DROP_PERCENT", 10, 1, 99)
# subscriptions and keyword messages one account may make (count/seconds; trust.ratelimit)
RATE_FANSERVICE = env_rate("RATE_FANSERVICE", "60/3600")

# --- rules that run by themselves (issue 12): anti-flooding (刷屏) and the spam filter -------------------
# social.rules reads these at post, reply and profile time; README "Configuration" says what each does.
RULES_ENABLED = env_bool("RULES_ENABLED", True)  # off: no fingerprints, no flood or spam checks (benchmarks)
# the same or a near-same text (SimHash distance ≤ RULES_DUPLICATE_DISTANCE of 64 bits) by the same author in
# the same place (top level, or a reply to the same post) within this many seconds is refused
RULES_DUPLICATE_WINDOW = env_int_at_least("RULES_DUPLICATE_WINDOW", 3600, 1)
RULES_DUPLICATE_DISTANCE = env_int_between("RULES_DUPLICATE_DISTANCE", 12, 0, 32)
# texts shorter than this (letters, digits, ideographs) are never duplicates ("谢谢!", "+1", "早安")
RULES_DUPLICATE_MIN_CHARS = env_int_at_least("RULES_DUPLICATE_MIN_CHARS", 10, 1)
# the same or a near-same reply to more than this many different posts within the seconds is refused
RULES_REPLY_REPEAT = env_rate("RULES_REPLY_REPEAT", "3/3600")
# a burst: this many posts within the seconds, and RULES_BURST_FACTOR times the account's median posts per
# active hour over the last week, is refused until the window slides
RULES_BURST = env_rate("RULES_BURST", "10/60")
RULES_BURST_FACTOR = env_int_at_least("RULES_BURST_FACTOR", 3, 1)
# mentions: at most this many distinct accounts in one post (422), and this many across recent posts (429)
RULES_MENTIONS_MAX = env_int_at_least("RULES_MENTIONS_MAX", 10, 1)
RULES_MENTIONS_WINDOW = env_rate("RULES_MENTIONS_WINDOW", "30/3600")
# the spam filter (trust.spam): the score from which a keyword line is spam
RULES_SPAM_THRESHOLD = env_fraction("RULES_SPAM_THRESHOLD", 0.5)
# offences of one kind by one account within this many seconds call social.rule_offence once
RULES_OFFENCE_ONCE_SECONDS = env_int_at_least("RULES_OFFENCE_ONCE_SECONDS", 600, 1)
