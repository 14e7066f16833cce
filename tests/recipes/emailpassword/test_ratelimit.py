"""Which address a per-client limit counts (``bastion.ratelimit.client_address``)."""

from __future__ import annotations

import ipaddress

import pytest

from bastion.errors import ConfigError
from bastion.http.types import BaseRequest, RequestState
from bastion.ratelimit import Limit, client_address, counter_key


class PeerRequest(BaseRequest):
    """A request as an adapter would present it: a peer address and some headers."""

    def __init__(self, peer: str | None, headers: dict[str, str] | None = None) -> None:
        self.state = RequestState()
        self._peer = peer
        self._headers = {k.lower(): v for k, v in (headers or {}).items()}

    def method(self) -> str:
        return "POST"

    def path(self) -> str:
        return "/auth/signin"

    def get_header(self, name: str) -> str | None:
        return self._headers.get(name)

    def get_query_param(self, name: str) -> str | None:
        return None

    async def body_bytes(self) -> bytes:
        return b""

    def client_host(self) -> str | None:
        return self._peer


PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("203.0.113.5", None, (), "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1", (), "203.0.113.5"),  # no trusted proxy: ignored
        ("203.0.113.5", "198.51.100.1", PROXIES, "203.0.113.5"),  # peer is not a proxy
        ("10.0.0.2", "198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1", PROXIES, "198.51.100.1"),  # rightmost untrusted
        ("10.0.0.2", "198.51.100.1, 10.0.0.9", PROXIES, "198.51.100.1"),  # through two proxies
        ("10.0.0.2", "a, 198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1, a", PROXIES, "10.0.0.2"),  # malformed: stop at the proxy
        ("10.0.0.2", "", PROXIES, "10.0.0.2"),
        ("10.0.0.2", "[2001:db8::1]:443", PROXIES, "2001:db8::/64"),
        ("10.0.0.2", "198.51.100.1:8080", PROXIES, "198.51.100.1"),
        ("2001:db8:1:2:3:4:5:6", None, (), "2001:db8:1:2::/64"),  # an IPv6 client is its /64
        ("::ffff:203.0.113.5", None, (), "203.0.113.5"),
        ("testclient", None, (), "testclient"),
        (None, "198.51.100.1", PROXIES, None),
    ],
)
def test_client_address(
    peer: str | None, forwarded: str | None, proxies: tuple[object, ...], expected: str | None
) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    assert client_address(PeerRequest(peer, headers), proxies) == expected  # type: ignore[arg-type]


def test_limits_are_validated_and_keys_are_digests() -> None:
    with pytest.raises(ConfigError):
        Limit(name="", max_attempts=1, window_s=1)
    with pytest.raises(ConfigError):
        Limit(name="x", max_attempts=1, window_s=1, lock_after=0)
    assert counter_key("a@b.c") != "a@b.c"
    assert len(counter_key("a@b.c")) == 64


def test_trusted_proxies_are_checked_at_init(db_url: str) -> None:
    import bastion
    from tests.conftest import app_info

    with pytest.raises(ConfigError):
        bastion.init(app_info=app_info(), database_url=db_url, trusted_proxies=["not-an-address"])
    with pytest.raises(ConfigError):
        bastion.init(app_info=app_info(), database_url=db_url, trusted_proxies="10.0.0.1")  # type: ignore[arg-type]
