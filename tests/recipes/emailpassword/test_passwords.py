"""Password hashing (security guide tests 5, 7, 8, 9): argon2id defaults, normalisation, no
truncation, the length cap, imported bcrypt/argon2 hashes, rehash on sign-in, the hashing cap."""

from __future__ import annotations

import asyncio
import threading
import unicodedata

import argon2
import bcrypt
import pytest

from bastion.bridge import run_blocking, run_sync
from bastion.core.passwords import PasswordHasher, PasswordHashing, hash_scheme
from bastion.errors import ConfigError
from bastion.recipe.emailpassword import InputFormField, InputSignUpFeature
from bastion.recipe.emailpassword.hashing import MAX_CONCURRENT_HASHES, AsyncPasswordHasher
from bastion.recipe.emailpassword.syncio import import_user_with_password_hash
from tests.recipes.emailpassword.conftest import StartEP, form, sign_in

TINY = PasswordHashing(time_cost=1, memory_cost_kib=64)


def test_defaults_are_owasp_argon2id() -> None:
    stored = PasswordHasher().hash("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PasswordHashing().max_length == 128


def test_every_hash_has_its_own_salt() -> None:
    hasher = PasswordHasher(TINY)
    hashes = {hasher.hash("same password") for _ in range(2000)}
    assert len(hashes) == 2000
    assert len({h.split("$")[4] for h in hashes}) == 2000  # the salt field


def test_unicode_is_normalised_before_hashing() -> None:
    hasher = PasswordHasher(TINY)
    composed = unicodedata.normalize("NFC", "caf\u00e9 au lait 1")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert hasher.verify(hasher.hash(composed), decomposed)
    assert hasher.verify(hasher.hash(decomposed), composed)
    assert hasher.verify(hasher.hash("\uff21BC12345"), "ABC12345")  # fullwidth A (NFKC)


def test_no_truncation_and_no_case_folding() -> None:
    hasher = PasswordHasher(TINY)
    base = "x" * 72
    assert not hasher.verify(hasher.hash(base + "A"), base + "B")
    assert not hasher.verify(hasher.hash(base + "A"), base)
    assert not hasher.verify(hasher.hash("Password123"), "password123")


def test_length_is_capped_in_code_points_before_hashing() -> None:
    hasher = PasswordHasher(TINY)
    for accepted in ("a" * 64, "a" * 128, "\U0001f600" * 128, "\u5bc6" * 128, " spaced out " * 10):
        assert hasher.verify(hasher.hash(accepted), accepted)
    assert hasher.is_too_long("a" * 129)
    with pytest.raises(ValueError, match="too long"):
        hasher.hash("a" * 129)
    assert not hasher.verify(hasher.hash("a" * 128), "a" * 129)
    with pytest.raises(ConfigError):
        PasswordHashing(max_length=32)
    with pytest.raises(ConfigError):
        PasswordHashing(memory_cost_kib=4)


def test_imported_bcrypt_and_argon2_hashes_verify_and_need_rehash() -> None:
    hasher = PasswordHasher(TINY)
    legacy = bcrypt.hashpw(b"legacy secret 1", bcrypt.gensalt(4)).decode()
    assert hash_scheme(legacy) == "bcrypt"
    assert hasher.verify(legacy, "legacy secret 1")
    assert hasher.verify(legacy.replace("$2b$", "$2y$", 1), "legacy secret 1")
    assert not hasher.verify(legacy, "legacy secret 2")
    assert hasher.needs_rehash(legacy)
    # bcrypt reads 72 bytes; a longer password must not match a hash of its prefix.
    long_one = "y" * 72
    prefix_hash = bcrypt.hashpw(long_one.encode(), bcrypt.gensalt(4)).decode()
    assert hasher.verify(prefix_hash, long_one)
    assert not hasher.verify(prefix_hash, long_one + "tail")

    argon2i = argon2.PasswordHasher(type=argon2.Type.I, memory_cost=64, time_cost=1).hash(
        "s3cret!!"
    )
    assert hasher.verify(argon2i, "s3cret!!")
    assert hasher.needs_rehash(argon2i)
    assert hasher.needs_rehash(PasswordHasher().hash("other params 1"))
    assert not hasher.needs_rehash(hasher.hash("same params 1"))
    for junk in ("", "plain text", "$argon2id$broken", "$2b$12$short"):
        assert not hasher.verify(junk, "anything")
        assert hash_scheme(junk) in (None, "argon2")


def test_run_blocking_uses_a_worker_thread_only_under_an_event_loop() -> None:
    main = threading.current_thread().name

    async def where() -> str:
        return await run_blocking(lambda: threading.current_thread().name)

    assert run_sync(where()) == main  # sync mode: inline, never suspends
    assert asyncio.run(where()) != main


def test_hashing_never_blocks_the_loop_and_is_capped_per_process() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    class Probe(PasswordHasher):
        def verify(self, stored: str, password: str) -> bool:
            nonlocal active, peak
            with lock:
                active += 1
                peak = max(peak, active)
            try:
                return super().verify(stored, password)
            finally:
                with lock:
                    active -= 1

    hasher = AsyncPasswordHasher()
    hasher.core = Probe()  # real argon2id at the default cost, about 20 ms a verification
    stored = hasher.core.hash("pw 12345678")

    async def flood() -> tuple[list[bool], int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        beat = asyncio.create_task(ticker())
        results = await asyncio.gather(*(hasher.verify(stored, "pw 12345678") for _ in range(24)))
        beat.cancel()
        return results, ticks

    results, ticks = asyncio.run(flood())
    assert all(results)
    assert peak <= MAX_CONCURRENT_HASHES
    assert ticks > 24  # the loop kept running while hashes ran
    # Sync callers on many threads share the same cap.
    peak = 0
    threads = [
        threading.Thread(target=lambda: run_sync(hasher.verify(stored, "pw 12345678")))
        for _ in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= peak <= MAX_CONCURRENT_HASHES
    assert hasher.verifications == 36


def _stored_hash(stack: object, email: str) -> str:
    from bastion.users.emails import email_key

    credential = run_sync(
        stack.app.store.get_password_credential(email_key(email), tenant_id="public")
    )  # type: ignore[attr-defined]
    assert credential is not None
    return str(credential.password_hash)


def test_sign_up_uses_the_default_parameters(start_ep: StartEP) -> None:
    stack = start_ep("fastapi", password_hashing=None)
    with stack.client() as client:
        assert (
            client.post(
                "/auth/signup", json=form(email="d@example.com", password="pass word 1")
            ).json()["status"]
            == "OK"
        )
    assert _stored_hash(stack, "d@example.com").startswith("$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.parametrize("scheme", ["bcrypt", "argon2id-default"])
def test_imported_hash_is_upgraded_at_the_first_good_sign_in(
    start_ep: StartEP, scheme: str
) -> None:
    stack = start_ep("flask")
    legacy = (
        bcrypt.hashpw(b"imported pass 1", bcrypt.gensalt(4)).decode()
        if scheme == "bcrypt"
        else PasswordHasher().hash("imported pass 1")
    )
    assert import_user_with_password_hash("public", "Old@Example.com", legacy).status == "OK"
    with stack.client() as client:
        assert (
            sign_in(client, "old@example.com", "not it").json()["status"]
            == "WRONG_CREDENTIALS_ERROR"
        )
        assert _stored_hash(stack, "old@example.com") == legacy  # failures never rehash
        assert sign_in(client, "old@example.com", "imported pass 1").json()["status"] == "OK"
    upgraded = _stored_hash(stack, "old@example.com")
    assert upgraded.startswith("$argon2id$v=19$m=1024,t=1,p=1$")  # the configured parameters
    with stack.client() as client:
        assert sign_in(client, "OLD@example.com", "imported pass 1").json()["status"] == "OK"
    assert _stored_hash(stack, "old@example.com") == upgraded  # no further rehash
    with pytest.raises(ConfigError):
        import_user_with_password_hash("public", "x@example.com", "md5$abc")


def test_a_password_over_the_cap_is_refused_before_hashing(start_ep: StartEP) -> None:
    def anything_goes(value: object, tenant_id: str) -> None:
        return None

    stack = start_ep(
        "fastapi",
        sign_up_feature=InputSignUpFeature([InputFormField("password", validate=anything_goes)]),
    )
    hashes = stack.recipe.hasher.hashes
    with stack.client() as client:
        long_pw = "p" * 129
        answer = client.post("/auth/signup", json=form(email="l@example.com", password=long_pw))
        assert answer.json() == {
            "status": "FIELD_ERROR",
            "formFields": [
                {"id": "password", "error": "Password's length must be at most 128 characters"}
            ],
        }
        assert stack.recipe.hasher.hashes == hashes
        ok = client.post("/auth/signup", json=form(email="l@example.com", password="p" * 128))
        assert ok.json()["status"] == "OK"
        assert (
            sign_in(client, "l@example.com", long_pw).json()["status"] == "WRONG_CREDENTIALS_ERROR"
        )
