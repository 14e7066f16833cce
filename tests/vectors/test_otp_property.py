"""Our TOTP against pyotp (an independent implementation) on random inputs: zero mismatches."""

from __future__ import annotations

import base64
import hashlib

import pyotp
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.core.otp import base32_secret, parse_base32_secret, totp

DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


@settings(max_examples=2000, deadline=None)
@given(
    secret=st.binary(min_size=14, max_size=64),  # pyotp refuses under 112 bits
    unix=st.integers(min_value=0, max_value=2**35),
    digits=st.integers(min_value=6, max_value=8),
    algorithm=st.sampled_from(sorted(DIGESTS)),
    period=st.sampled_from([15, 30, 60]),
)
def test_totp_matches_pyotp(
    secret: bytes, unix: int, digits: int, algorithm: str, period: int
) -> None:
    reference = pyotp.TOTP(
        base64.b32encode(secret).decode(),
        digits=digits,
        digest=DIGESTS[algorithm],
        interval=period,
    )
    ours = totp(secret, unix * 1000, period=period, digits=digits, algorithm=algorithm)  # type: ignore[arg-type]
    assert ours == reference.at(unix)


@given(secret=st.binary(min_size=1, max_size=128))
def test_base32_round_trip_with_lowercase_spaces_and_no_padding(secret: bytes) -> None:
    text = base32_secret(secret)
    assert "=" not in text
    spaced = " ".join(text[i : i + 4] for i in range(0, len(text), 4)).lower()
    assert parse_base32_secret(spaced) == secret
    assert parse_base32_secret(base64.b32encode(secret).decode()) == secret
