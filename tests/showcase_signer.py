"""A partner store's side of Standard Webhooks, for tests: sign a JSON body with the store's secret."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook


class StoreSigner:
    """What a partner store does: sign a JSON body per Standard Webhooks with its secret."""

    def __init__(self, secret: str):
        self.hook = Webhook(secret)

    def deliver(self, event_type: str, data: dict, *, msg_id: str | None = None, at: float | None = None,
                body: str | None = None) -> tuple[bytes, dict]:
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        at = time.time() if at is None else at
        body = body if body is not None else json.dumps({"type": event_type, "data": data})
        signature = self.hook.sign(msg_id, datetime.fromtimestamp(at, tz=UTC), body)
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(at)), "webhook-signature": signature,
                   "content-type": "application/json"}
        return body.encode(), headers
