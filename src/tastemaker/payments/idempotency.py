"""Idempotency keys for HTTP money requests (``Idempotency-Key``, as in the IETF draft and Stripe).

Every request that moves money carries a client-chosen key. ``run_idempotent`` runs the operation
once per (user, key) and stores its response; a retry with the same key and the same request gets
the stored response back byte-for-byte; the same key with a different request is refused (422);
concurrent duplicates wait for the first one and then get its response, so there is one effect.

How the JSON API uses it (a django-ninja handler)::

    from django.http import HttpResponse
    from tastemaker.payments.idempotency import require_key, request_fingerprint, run_idempotent

    @router.post("/wallet/transfers")
    def transfer(request, payload: TransferIn):
        key = require_key(request.headers.get("Idempotency-Key"))         # 400 when missing/invalid
        fingerprint = request_fingerprint("POST", "/wallet/transfers", payload.dict())

        def act():
            tx = services.do_transfer(request.auth, to_user, payload.amount, payload.currency)
            return 201, {"transaction_id": str(tx.pk), "amount": payload.amount}

        result = run_idempotent(request.auth, key, fingerprint, act)
        response = HttpResponse(result.body, status=result.status, content_type="application/json")
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

The web pages do the same with a key generated when the form is rendered (a hidden field,
``new_key()``), so a double-submitted form moves money once; ``act`` may return e.g.
``(303, {"redirect": url})`` and the view redirects.

Semantics worth knowing:

* ``act`` runs inside the same database transaction as the record: if it raises a ``DomainError``
  (insufficient funds, validation), its effects are rolled back and the error response
  ``{"error": message, "field": field}`` with the error's status is stored and replayed like a
  success — a new attempt needs a new key. Any other exception stores nothing (the client may retry).
* The body is stored as the JSON text first sent (not a JSON column, which PostgreSQL would reorder).
* Records are kept ``IDEMPOTENCY_TTL_HOURS`` (default 72) and then purged by ``tasks.sweep_payments``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tastemaker.core.errors import DomainError, ValidationFailed

from .models import IdempotencyRecord

if TYPE_CHECKING:
    from tastemaker.accounts.models import User

MAX_KEY_LENGTH = 255


class MissingIdempotencyKey(DomainError):
    status = 400


class IdempotencyKeyReused(ValidationFailed):
    """The key was used before for a different request (422)."""


@dataclass(frozen=True)
class IdempotentResponse:
    status: int
    body: str  # JSON text
    replayed: bool  # True: the stored response of an earlier request with this key


def new_key() -> str:
    return secrets.token_urlsafe(24)


def require_key(value: str | None) -> str:
    """The key from the ``Idempotency-Key`` header (or a form field): 1-255 printable ASCII characters."""
    if value is None or value == "":
        raise MissingIdempotencyKey(_("This request moves money: send an Idempotency-Key header "
                                      "(any unique string of up to 255 characters)."), field="Idempotency-Key")
    if len(value) > MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in value) or not value.strip():
        raise MissingIdempotencyKey(_("The Idempotency-Key must be 1 to 255 printable ASCII characters."),
                                    field="Idempotency-Key")
    return value


def request_fingerprint(method: str, path: str, payload: Any) -> str:
    """A hash of what makes two requests "the same": method, path and body. ``payload`` may be a dict
    (compared as canonical JSON, so key order and whitespace do not matter) or raw bytes/str."""
    if isinstance(payload, bytes | str):
        raw = payload.encode() if isinstance(payload, str) else payload
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            payload = {"raw": hashlib.sha256(raw).hexdigest()}
    canonical = json.dumps({"method": method.upper(), "path": path, "body": payload}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _render(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


def run_idempotent(user: User | int, key: str, fingerprint: str, act: Callable[[], tuple[int, Any]]) -> IdempotentResponse:
    """Run ``act`` at most once for (user, key); see the module docstring."""
    key = require_key(key)
    user_id = user if isinstance(user, int) else user.pk
    with transaction.atomic():  # on SQLite: BEGIN IMMEDIATE, so duplicates queue here
        stored = _stored(user_id, key, fingerprint)
        if stored is not None:
            return stored
        record = None
        for _attempt in range(3):
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(user_id=user_id, key=key, fingerprint=fingerprint)
                break
            except IntegrityError:
                # PostgreSQL: a concurrent duplicate inserted the key; our insert waited for its commit
                stored = _stored(user_id, key, fingerprint)
                if stored is not None:
                    return stored
                # it rolled back instead: the key is free again, try once more
        if record is None:  # pragma: no cover - three concurrent attempts in a row rolled back
            raise IntegrityError("idempotency record could not be written")
        try:
            with transaction.atomic():
                status, body = act()
        except DomainError as exc:
            status, body = exc.status, {"error": exc.message, "field": exc.field}
        text = _render(body)
        IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=status, response_body=text)
    return IdempotentResponse(status=status, body=text, replayed=False)


def _stored(user_id: int, key: str, fingerprint: str) -> IdempotentResponse | None:
    record = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(_("This Idempotency-Key was already used for a different request; "
                                     "use a new key for a new request."), field="Idempotency-Key")
    return IdempotentResponse(status=record.status_code, body=record.response_body, replayed=True)


# --- shared by the web forms and the API (issue 11) -------------------------------------------

def key_used(user: User | int, key: str) -> bool:
    """Whether (user, key) already has a record: a replay, which must not call out to a provider again."""
    user_id = user if isinstance(user, int) else user.pk
    return IdempotencyRecord.objects.filter(user_id=user_id, key=require_key(key)).exists()


def run_keyed(user: User | int, key: str | None, operation: str, body: Any,
              act: Callable[[], tuple[int, Any]]) -> IdempotentResponse:
    """What every keyed money request does, from a form's hidden field or an ``Idempotency-Key`` header: check
    the key (MissingIdempotencyKey), fingerprint ``operation`` and ``body`` (IdempotencyKeyReused when the key
    was used for something else), run ``act`` at most once."""
    key = require_key(key)
    return run_idempotent(user, key, request_fingerprint("POST", operation, body), act)
