"""Settings for the test suite: tasks run inline (explicitly), a throwaway data dir."""

import os
import tempfile

os.environ.setdefault("TASTEMAKER_DATA_DIR", tempfile.mkdtemp(prefix="tastemaker-test-"))
os.environ.setdefault("TASTEMAKER_HUEY_IMMEDIATE", "1")
os.environ.setdefault("TASTEMAKER_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("TASTEMAKER_PAYMENT_PROVIDERS", "sandbox")  # off by default without DEBUG

from .settings import *  # noqa: E402,F403

# Argon2 stays (it is what production uses) but with cheap parameters, so tests stay fast.
PASSWORD_HASHERS = ["tastemaker.core.hashers.FastArgon2PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
