"""Language codes, read in one place.

Two questions, one reading of the code (trimmed, lower case, ``_`` as ``-``):

* ``normalise_language``: which UI language of this server is it? (accounts: sign-up, profile, API
  ``language`` fields). Chinese in any spelling is ``zh-hans``; anything the server does not offer is refused.
* ``language_tag``: what tag did the client report? (analytics breakdowns). Never refused: a tag that is not
  shaped like one is ``unknown``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import ValidationFailed

CHINESE = frozenset({"zh", "zh-cn", "zh-hans"})
_TAG_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def _read(value: str | None) -> str:
    return (value or "").strip().lower().replace("_", "-")


def normalise_language(value: str | None) -> str:
    """One of ``settings.LANGUAGES`` (empty: ``en``); ValidationFailed on ``language`` otherwise."""
    code = _read(value) or "en"
    if code in CHINESE:
        return "zh-hans"
    if code not in {c for c, _name in settings.LANGUAGES}:
        raise ValidationFailed(_("Unsupported language; use 'en' or 'zh-hans'."), field="language")
    return code


@lru_cache(maxsize=1024)
def language_tag(value: str | None) -> str:
    """A reported language tag (``en``, ``zh-cn``, ``pt-br``…) or ``unknown``."""
    code = _read(value)[:10]
    return code if _TAG_RE.match(code) else "unknown"
