"""Settings for the test suite: tasks run inline (explicitly), a throwaway data dir."""

import os
import tempfile

# a throwaway data dir per process. pytest-xdist's workers inherit the controller's environment, so a dir
# this file made there would be shared by every worker (one worker's media showing up in another's tests):
# a process that inherits the dir this file made elsewhere makes its own. A dir given from outside is kept.
_made = os.environ.get("TASTEMAKER_TEST_DATA_DIR_MADE")
if "TASTEMAKER_DATA_DIR" not in os.environ or os.environ["TASTEMAKER_DATA_DIR"] == _made:
    os.environ["TASTEMAKER_DATA_DIR"] = os.environ["TASTEMAKER_TEST_DATA_DIR_MADE"] = tempfile.mkdtemp(
        prefix="tastemaker-test-")
os.environ.setdefault("TASTEMAKER_HUEY_IMMEDIATE", "1")
os.environ.setdefault("TASTEMAKER_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("TASTEMAKER_PAYMENT_PROVIDERS", "sandbox")  # off by default without DEBUG
# the anti-flooding and spam rules are off for the suite (its tests post the same text many times a second);
# tests/trust/test_rules*.py turn them on with the `rules` fixture
os.environ.setdefault("TASTEMAKER_RULES_ENABLED", "0")

from .settings import *  # noqa: E402,F403

# Argon2 stays (it is what production uses) but with cheap parameters, so tests stay fast.
PASSWORD_HASHERS = ["tastemaker.core.hashers.FastArgon2PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
