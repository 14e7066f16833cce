"""Throttling on storage counters, for any endpoint: per account, per client, per anything.

A :class:`Limit` allows ``max_attempts`` per ``window_s`` for one key, and optionally stops for
good after ``lock_after`` attempts in a row that were never :meth:`RateLimiter.reset` (NIST SP
800-63B 5.2.2 caps consecutive failed sign-ins at 100). Counting is atomic in storage and
happens *before* the expensive work, so 200 parallel attempts run that work at most
``max_attempts`` times.

The pattern::

    verdict = await limiter.hit(limit, key)      # count this attempt, or refuse it
    if not verdict.allowed:
        raise verdict.error()                    # 429, without doing the work
    ok = await do_the_work()
    if ok:
        await limiter.reset(limit, key)          # a success clears the account's failures
        # or: await limiter.forgive(limit, key)  # take back just this attempt

Keys are stored as SHA-256 digests, so the table holds no emails or addresses.
:func:`client_address` gives the client's address for per-client limits (and
:func:`client_ip` the exact address, for audit events); ``X-Forwarded-For`` counts only when the
request comes from one of the app's ``trusted_proxies``.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from bastion.clock import Clock
from bastion.errors import ConfigError, TooManyRequestsError
from bastion.http.types import BaseRequest
from bastion.storage.base import CounterState, CounterStore

__all__ = ["Limit", "RateLimiter", "Verdict", "client_address", "client_ip", "counter_key"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

THROTTLED_MESSAGE = "Too many attempts. Please try again later."
LOCKED_MESSAGE = "Too many failed attempts. Reset your password to sign in again."


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """``max_attempts`` per ``window_s`` seconds for one key; a hard stop after ``lock_after``
    consecutive attempts without a reset (None: no hard stop)."""

    name: str
    max_attempts: int
    window_s: int
    lock_after: int | None = None
    message: str = THROTTLED_MESSAGE
    """The 429 body's ``message`` while throttled."""
    locked_message: str = LOCKED_MESSAGE
    """The 429 body's ``message`` once ``lock_after`` is reached."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ConfigError("a limit needs a name")
        if self.max_attempts < 1 or self.window_s < 1:
            raise ConfigError(f"limit {self.name!r}: max_attempts and window_s must be >= 1")
        if self.lock_after is not None and self.lock_after < 1:
            raise ConfigError(f"limit {self.name!r}: lock_after must be >= 1 or None")


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an attempt may go ahead; when not, how long to wait (None while locked)."""

    allowed: bool
    limit: Limit
    locked: bool = False
    retry_after_s: int | None = None

    def error(self) -> TooManyRequestsError:
        """The 429 to raise for a refused attempt."""
        if self.locked:
            return TooManyRequestsError(self.limit.locked_message)
        return TooManyRequestsError(self.limit.message, retry_after_s=self.retry_after_s)


def counter_key(value: str) -> str:
    """The stored form of a key: its SHA-256, hex."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class RateLimiter:
    """Applies :class:`Limit` s with counters kept in storage (shared by every process)."""

    def __init__(self, store: CounterStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def hit(self, limit: Limit, key: str) -> Verdict:
        """Count one attempt for ``key``, or refuse it without counting."""
        now = self.clock.now_ms()
        window_ms = limit.window_s * 1000
        allowed, state = await self.store.take_counter(
            limit.name,
            counter_key(key),
            now_ms=now,
            window_ms=window_ms,
            max_hits=limit.max_attempts,
            max_consecutive=limit.lock_after,
        )
        if allowed:
            return Verdict(True, limit)
        if limit.lock_after is not None and state.consecutive >= limit.lock_after:
            return Verdict(False, limit, locked=True)
        wait_ms = state.window_start_ms + window_ms - now
        return Verdict(False, limit, retry_after_s=max(1, -(-wait_ms // 1000)))

    async def forgive(self, limit: Limit, key: str) -> None:
        """Take back one attempt (it turned out not to be a failure)."""
        await self.store.refund_counter(limit.name, counter_key(key))

    async def reset(self, limit: Limit, key: str) -> None:
        """Forget every attempt for ``key`` (a success, or a password reset lifting a lock)."""
        await self.store.clear_counter(limit.name, counter_key(key))

    async def state(self, limit: Limit, key: str) -> CounterState | None:
        """The counter as stored, or None if ``key`` has no attempts."""
        return await self.store.get_counter(limit.name, counter_key(key))


def _parse_ip(value: str) -> IPAddress | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:8080"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def _bucket(address: IPAddress) -> str:
    # One IPv6 client usually holds a whole /64: count it as one.
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _client(request: BaseRequest, trusted_proxies: Sequence[IPNetwork]) -> IPAddress | str | None:
    """The client: an address, the peer's own text when it is not an IP, or None."""
    peer = request.client_host()
    if peer is None:
        return None
    address = _parse_ip(peer)
    if address is None:
        return peer  # not an IP (a Unix socket, a test transport): still one client
    if trusted_proxies and _trusted(address, trusted_proxies):
        forwarded = request.get_header("x-forwarded-for") or ""
        for entry in reversed(forwarded.split(",")):
            hop = _parse_ip(entry)
            if hop is None:
                break
            address = hop
            if not _trusted(hop, trusted_proxies):
                break
    return address


def client_address(request: BaseRequest, trusted_proxies: Sequence[IPNetwork] = ()) -> str | None:
    """The client's address for per-client limits (IPv6 as its /64), or None if unknown.

    ``X-Forwarded-For`` is read only when the peer is a trusted proxy: then the right-most
    entry that is not a trusted proxy is the client. A malformed entry stops the walk at the
    last trusted hop, so made-up values can never pick the key.
    """
    client = _client(request, trusted_proxies)
    return client if client is None or isinstance(client, str) else _bucket(client)


def client_ip(request: BaseRequest, trusted_proxies: Sequence[IPNetwork] = ()) -> str | None:
    """The client's exact address, found as :func:`client_address` finds it (for audit)."""
    client = _client(request, trusted_proxies)
    return None if client is None else str(client)
