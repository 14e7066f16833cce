"""Access tokens bastion did not issue, or no longer accepts, are refused (spec 2, 6; RFC 8725)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256

from bastion.bridge import run_sync
from bastion.clock import ManualClock
from bastion.core.encoding import b64url_encode
from bastion.core.jwt import sign_token
from bastion.core.keys import private_key_of, public_key_of
from bastion.runtime import current_app

TRY_REFRESH = {"message": "try refresh token"}
UNAUTHORISED = {"message": "unauthorised"}


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def encode(part: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(part, separators=(",", ":")).encode())


def rs256(header: dict[str, Any], payload: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    signing_input = f"{encode(header)}.{encode(payload)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), SHA256())
    return f"{signing_input}.{b64url_encode(signature)}"


def hs256(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{encode(header)}.{encode(payload)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url_encode(signature)}"


def our_key_sign(payload: dict[str, Any]) -> str:
    key = run_sync(current_app().session_recipe.keyring.signing_key())
    return sign_token(payload, key)


def public_key_forms() -> list[bytes]:
    key = run_sync(current_app().session_recipe.keyring.signing_key())
    public = public_key_of(key)
    jwk = json.dumps(key.jwk()).encode()
    return [
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
        jwk,
    ]


ATTACKER = rsa.generate_private_key(public_exponent=65537, key_size=2048)

Forge = Callable[[str], str]


def flip_signature(token: str) -> str:
    head, payload, sig = token.split(".")
    flipped = "A" if sig[5] != "A" else "B"
    return f"{head}.{payload}.{sig[:5]}{flipped}{sig[6:]}"


def change_payload(token: str) -> str:
    header, payload, sig = segments(token)
    payload["sub"] = "someone-else"
    return f"{encode(header)}.{encode(payload)}.{sig}"


def attacker_signed_same_kid(token: str) -> str:
    header, payload, _ = segments(token)
    return rs256(header, payload, ATTACKER)


def attacker_signed_unknown_kid(token: str) -> str:
    header, payload, _ = segments(token)
    return rs256({**header, "kid": "d-1"}, payload, ATTACKER)


def injected_jwk(token: str) -> str:
    header, payload, _ = segments(token)
    numbers = ATTACKER.public_key().public_numbers()
    jwk = {"kty": "RSA", "n": b64url_encode(numbers.n.to_bytes(256, "big")), "e": "AQAB"}
    return rs256({**header, "jwk": jwk, "jku": "https://evil.example/jwks"}, payload, ATTACKER)


@pytest.mark.parametrize(
    ("forge", "expected"),
    [
        (flip_signature, TRY_REFRESH),
        (change_payload, TRY_REFRESH),
        (attacker_signed_same_kid, TRY_REFRESH),
        (attacker_signed_unknown_kid, TRY_REFRESH),
        (injected_jwk, TRY_REFRESH),
    ],
    ids=[
        "signature-bit-flip",
        "payload-edited",
        "foreign-key-same-kid",
        "unknown-kid",
        "injected-jwk",
    ],
)
def test_bad_signatures_ask_for_refresh_and_change_nothing(
    server: Any, forge: Forge, expected: dict[str, str]
) -> None:
    with httpx.Client(base_url=server.url) as http:
        token = http.post("/create", headers={"st-auth-mode": "header"}).headers["st-access-token"]
        forged = forge(token)
        for headers in (
            {"authorization": f"Bearer {forged}"},
            {"cookie": f"sAccessToken={forged}"},
        ):
            response = http.get("/verify", headers=headers)
            assert response.status_code == 401
            assert response.json() == expected
            assert "set-cookie" not in response.headers  # nothing cleared, nothing issued
        assert http.get("/verify", headers={"authorization": f"Bearer {token}"}).status_code == 200


def unsigned_variants(token: str) -> list[str]:
    header, payload, sig = segments(token)
    forms = [
        f"{encode({**header, 'alg': alg})}.{encode(payload)}." for alg in ("none", "None", "NONE")
    ]
    forms += [hs256({**header, "alg": "HS256"}, payload, key) for key in public_key_forms()]
    forms.append(f"{encode({**header, 'alg': 'RS512'})}.{encode(payload)}.{sig}")
    forms.append(f"{encode({**header, 'crit': ['exp']})}.{encode(payload)}.{sig}")
    forms.append(f"{encode({**header, 'typ': 'at+jwt'})}.{encode(payload)}.{sig}")
    forms.append(f"{encode({**header, 'version': '2'})}.{encode(payload)}.{sig}")
    head, body, signature = token.split(".")
    forms.append(f"{head}.{body}")  # signature removed
    forms.append(f"{head}=.{body}.{signature}")  # padded base64url
    forms.append(f"{head}.{body}.{signature}.extra")
    dup = encode(header)[:-1]  # not valid JSON once truncated
    forms.append(f"{dup}.{body}.{signature}")
    duplicate_keys = b64url_encode(
        b'{"alg":"RS256","alg":"none","typ":"JWT","version":"5","kid":"x"}'
    )
    forms.append(f"{duplicate_keys}.{body}.{signature}")
    forms.append(token + "A" * 9000)
    return forms


def test_unsigned_or_malformed_tokens_are_unauthorised(server: Any) -> None:
    with httpx.Client(base_url=server.url) as http:
        token = http.post("/create", headers={"st-auth-mode": "header"}).headers["st-access-token"]
        for forged in unsigned_variants(token):
            # In a header, a token that is not ours is ignored: no session at all.
            by_header = http.get("/verify", headers={"authorization": f"Bearer {forged}"})
            assert (by_header.status_code, by_header.json()) == (401, UNAUTHORISED), forged[:60]
            # In the cookie, it is a token that fails to parse.
            by_cookie = http.get("/verify", headers={"cookie": f"sAccessToken={forged}"})
            assert (by_cookie.status_code, by_cookie.json()) == (401, UNAUTHORISED), forged[:60]
            assert "front-token" not in by_cookie.headers


@pytest.mark.parametrize(
    "field",
    [
        "sub",
        "exp",
        "iat",
        "sessionHandle",
        "refreshTokenHash1",
        "tId",
        "rsub",
        "antiCsrfToken",
        "parentRefreshTokenHash1",
    ],
)
def test_payload_missing_a_required_field_is_refused_even_when_signed(
    server: Any, field: str
) -> None:
    with httpx.Client(base_url=server.url) as http:
        token = http.post("/create", headers={"st-auth-mode": "header"}).headers["st-access-token"]
        _, payload, _ = segments(token)
        del payload[field]
        forged = our_key_sign(payload)
        response = http.get("/verify", headers={"cookie": f"sAccessToken={forged}"})
        assert (response.status_code, response.json()) == (401, UNAUTHORISED)


def test_wrong_token_type_is_refused(server: Any) -> None:
    with httpx.Client(base_url=server.url) as http:
        token = http.post("/create", headers={"st-auth-mode": "header"}).headers["st-access-token"]
        _, payload, _ = segments(token)
        forged = our_key_sign({**payload, "stt": 1})
        response = http.get("/verify", headers={"cookie": f"sAccessToken={forged}"})
        assert (response.status_code, response.json()) == (401, UNAUTHORISED)
        refresh = http.post("/create", headers={"st-auth-mode": "header"}).headers[
            "st-refresh-token"
        ]
        response = http.get("/verify", headers={"cookie": f"sAccessToken={refresh}"})
        assert (response.status_code, response.json()) == (401, UNAUTHORISED)


def test_expired_token_asks_for_refresh_even_on_optional_routes(
    server: Any, clock: ManualClock
) -> None:
    with httpx.Client(base_url=server.url) as http:
        token = http.post("/create", headers={"st-auth-mode": "header"}).headers["st-access-token"]
        headers = {"authorization": f"Bearer {token}"}
        clock.advance(3599)
        assert http.get("/verify", headers=headers).status_code == 200
        clock.advance(1)
        response = http.get("/verify", headers=headers)
        assert (response.status_code, response.json()) == (401, TRY_REFRESH)
        optional = http.post("/optional", headers=headers)
        assert (optional.status_code, optional.json()) == (401, TRY_REFRESH)
        assert http.post("/optional").json() == {"user": None}


def test_key_kind_mismatch_asks_for_refresh(init_app: Any, serve: Any) -> None:
    from tests.apps import session_app

    init_app()
    server = serve(session_app.build())
    with httpx.Client(base_url=server.url) as http:
        dynamic_token = http.post("/create", headers={"st-auth-mode": "header"}).headers[
            "st-access-token"
        ]
    init_app(use_dynamic_access_token_signing_key=False)
    with httpx.Client(base_url=server.url) as http:
        response = http.get("/verify", headers={"authorization": f"Bearer {dynamic_token}"})
        assert (response.status_code, response.json()) == (401, TRY_REFRESH)
        static = http.post("/create", headers={"st-auth-mode": "header"}).headers["st-access-token"]
        assert segments(static)[0]["kid"].startswith("s-")
        assert http.get("/verify", headers={"authorization": f"Bearer {static}"}).status_code == 200


def our_key_sign_raw(payload_json: bytes) -> str:
    """Sign a payload given as raw JSON text (to say things ``json.dumps`` cannot)."""
    key = run_sync(current_app().session_recipe.keyring.signing_key())
    header = {"alg": "RS256", "typ": "JWT", "version": "5", "kid": key.kid}
    signing_input = f"{encode(header)}.{b64url_encode(payload_json)}"
    signature = private_key_of(key).sign(signing_input.encode(), padding.PKCS1v15(), SHA256())
    return f"{signing_input}.{b64url_encode(signature)}"


def _verify_with(http: httpx.Client, token: str) -> list[tuple[int, Any]]:
    """The answers of a protected route to ``token`` by header, by cookie, and with a DB check."""
    return [
        (r.status_code, r.json())
        for r in (
            http.get("/verify", headers={"authorization": f"Bearer {token}"}),
            http.get("/verify", headers={"cookie": f"sAccessToken={token}"}),
            http.get("/verify-db", headers={"cookie": f"sAccessToken={token}"}),
        )
    ]


def test_a_token_not_valid_yet_is_refused(server: Any, clock: ManualClock) -> None:
    # RFC 7519 4.1.5: signed with the server's own key, but "nbf" is a minute ahead.
    with httpx.Client(base_url=server.url) as http:
        token = http.post("/create", headers={"st-auth-mode": "header"}).headers["st-access-token"]
        _, payload, _ = segments(token)
        not_yet = our_key_sign({**payload, "nbf": clock.now_ms() // 1000 + 60})
        assert _verify_with(http, not_yet) == [(401, TRY_REFRESH)] * 3
        clock.advance(60)  # from nbf on, it is a good token
        assert _verify_with(http, not_yet)[0][0] == 200
        odd = our_key_sign({**payload, "nbf": "soon"})
        assert _verify_with(http, odd) == [(401, UNAUTHORISED)] * 3


def test_a_token_of_another_issuer_is_refused(server: Any) -> None:
    with httpx.Client(base_url=server.url) as http:
        token = http.post("/create", headers={"st-auth-mode": "header"}).headers["st-access-token"]
        _, payload, _ = segments(token)
        assert payload["iss"] == "http://127.0.0.1:8000/auth"
        for issuer in ("https://other.example/auth", "http://127.0.0.1:8000", "", 7):
            forged = our_key_sign({**payload, "iss": issuer})
            assert _verify_with(http, forged) == [(401, UNAUTHORISED)] * 3, issuer
        assert _verify_with(http, token)[0][0] == 200


def test_duplicate_keys_in_a_signed_payload_are_refused(server: Any) -> None:
    # RFC 8725 3.11: one parser might read the first "sub", another the last.
    with httpx.Client(base_url=server.url) as http:
        victim = http.post(
            "/create", json={"user": "victim"}, headers={"st-auth-mode": "header"}
        ).headers["st-access-token"]
        token = http.post("/create", headers={"st-auth-mode": "header"}).headers["st-access-token"]
        _, payload, _ = segments(token)
        text = json.dumps(payload, separators=(",", ":"))
        assert text.startswith('{"sub":"user-1",')
        twice = our_key_sign_raw(('{"sub":"victim",' + text[1:]).encode())
        assert _verify_with(http, twice) == [(401, UNAUTHORISED)] * 3
        nested = our_key_sign_raw((text[:-1] + ',"x":{"a":1,"a":2}}').encode())
        assert _verify_with(http, nested) == [(401, UNAUTHORISED)] * 3
        assert _verify_with(http, victim)[0] == (200, {"user": "victim", "handle": ANY})


def test_a_stored_payload_cannot_set_another_issuer(server: Any) -> None:
    with httpx.Client(base_url=server.url) as http:
        created = http.post(
            "/create",
            json={"payload": {"iss": "https://other.example"}},
            headers={"st-auth-mode": "header"},
        )
        _, payload, _ = segments(created.headers["st-access-token"])
        assert payload["iss"] == "http://127.0.0.1:8000/auth"
        refreshed = http.post(
            "/auth/session/refresh",
            headers={
                "rid": "session",
                "st-auth-mode": "header",
                "authorization": f"Bearer {created.headers['st-refresh-token']}",
            },
        )
        assert refreshed.status_code == 200
        _, payload, _ = segments(refreshed.headers["st-access-token"])
        assert payload["iss"] == "http://127.0.0.1:8000/auth"
        assert _verify_with(http, refreshed.headers["st-access-token"])[0][0] == 200


def test_refresh_token_handles_of_non_ascii_text_are_not_tokens(server: Any) -> None:
    from bastion.core.refresh_tokens import RefreshTokenCodec

    codec = RefreshTokenCodec(b"k" * 32)
    genuine = codec.new_token("handle")
    assert codec.session_handle_of(genuine) == "handle"
    _, secret, tag = genuine.split(".")
    for bad in (f"\ud800.{secret}.{tag}", f"h\udcffandle.{secret}.{tag}", f"hándle.{secret}.{tag}"):
        assert codec.session_handle_of(bad) is None  # no UnicodeEncodeError
    # Over HTTP a lone surrogate cannot arrive (header bytes are Latin-1, cookie escapes are
    # decoded with replacement); a non-ASCII refresh token is an unauthorised refresh.
    with httpx.Client(base_url=server.url) as http:
        response = http.post(
            "/auth/session/refresh",
            headers={"rid": "session", "cookie": "sRefreshToken=h%C3%A1ndle.%ED%A0%80.AAAA"},
        )
        assert (response.status_code, response.json()) == (401, UNAUTHORISED)
