"""RFC 4226 and RFC 6238 test vectors, one test per vector (data in this folder)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest

from bastion.core.otp import hotp, parse_base32_secret, time_step, totp

HERE = Path(__file__).parent
SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890" * 6 + b"1234",
}
BASE32_SEEDS = {
    "SHA1": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    "SHA256": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA====",
    "SHA512": (
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA="
    ),
}


def _rows(name: str) -> list[list[str]]:
    lines = (HERE / name).read_text("utf-8").splitlines()
    assert lines[0].startswith("# source: RFC")
    return [[f.strip() for f in line.split(",")] for line in lines if not line.startswith("#")]


def _params(name: str) -> list[Any]:
    return [pytest.param(*row, id="-".join(row[:1] + row[2:3])) for row in _rows(name)]


@pytest.mark.parametrize(
    ("count", "hmac_hex", "truncated", "expected"), _params("rfc4226_hotp.txt")
)
def test_rfc4226_hotp(count: str, hmac_hex: str, truncated: str, expected: str) -> None:
    secret = SEEDS["SHA1"]
    digest = hmac.new(secret, int(count).to_bytes(8, "big"), hashlib.sha1).hexdigest()
    assert digest == hmac_hex
    assert hotp(secret, int(count)) == expected
    # 8 digits expose the truncated value's low digits: the dynamic truncation is right.
    assert hotp(secret, int(count), digits=8) == f"{int(truncated) % 10**8:08d}"


@pytest.mark.parametrize(("unix", "step_hex", "algorithm", "expected"), _params("rfc6238_totp.txt"))
def test_rfc6238_totp(unix: str, step_hex: str, algorithm: Any, expected: str) -> None:
    now_ms = int(unix) * 1000
    assert time_step(now_ms, 30) == int(step_hex, 16)
    assert totp(SEEDS[algorithm], now_ms, digits=8, algorithm=algorithm) == expected
    # The 6-digit code is the last six digits of the same truncation.
    assert totp(SEEDS[algorithm], now_ms, digits=6, algorithm=algorithm) == expected[-6:]


@pytest.mark.parametrize("algorithm", list(SEEDS))
def test_rfc6238_seeds_in_base32(algorithm: str) -> None:
    assert parse_base32_secret(BASE32_SEEDS[algorithm]) == SEEDS[algorithm]
