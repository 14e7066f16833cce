"""Claim classes for the access-token payload (``SessionClaim`` and the typed families)."""

from bastion.sessions.claims import (
    BooleanClaim,
    PrimitiveArrayClaim,
    PrimitiveClaim,
    SessionClaim,
)

__all__ = ["BooleanClaim", "PrimitiveArrayClaim", "PrimitiveClaim", "SessionClaim"]
