"""The ``front-token`` header: what the frontend SDK reads about the session."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from bastion.core.encoding import compact_json

__all__ = ["REMOVE", "build_front_token"]

REMOVE = "remove"


def build_front_token(user_id: str, access_token_expiry_ms: int, payload: Mapping[str, Any]) -> str:
    """Standard base64 (with padding) of sorted compact JSON ``{ate, uid, up}``."""
    document = {"uid": user_id, "ate": access_token_expiry_ms, "up": payload}
    return base64.b64encode(compact_json(document, sort_keys=True).encode("utf-8")).decode("ascii")
