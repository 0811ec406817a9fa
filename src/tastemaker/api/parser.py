"""Request bodies as JSON *or* form data: Mastodon clients (Mastodon.py among them) send forms with
``key[]`` for lists; others send JSON. Both reach the same typed schema.

The text of every body has already been checked by ``core.middleware.InputGuardMiddleware`` (UTF-8, no NUL,
no lone surrogate, bounded JSON depth); a JSON body is parsed there once and reused here."""

from __future__ import annotations

import json

from ninja.parser import Parser

from tastemaker.core.safeinput import request_json


class MastodonParser(Parser):
    def parse_body(self, request):
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            return form_to_dict(request.POST)
        if not request.body:
            return {}
        data = request_json(request)  # any error here is ninja's 400 "Cannot parse request body"
        if not isinstance(data, dict):
            raise json.JSONDecodeError("the body must be a JSON object", "", 0)
        return data


def form_to_dict(post) -> dict:
    out: dict = {}
    for key in post.keys():
        values = post.getlist(key)
        if key.endswith("[]"):
            out[key[:-2]] = values
        else:
            out[key] = values[-1] if values else ""
    return out
