"""Fixtures for MFA tests: a bastion with session + multifactorauth + totp, served over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest

import bastion
from bastion.clock import ManualClock
from bastion.recipe import multifactorauth, session, totp
from tests.client import SessionClient
from tests.conftest import app_info
from tests.databases import Databases
from tests.recipes.mfa.apps import BUILDERS

T0_MS = 1_800_000_000_000  # a multiple of 30 s: codes change exactly on ManualClock steps
FRAMEWORKS = list(BUILDERS)
ASGI = {"fastapi", "django-asgi"}


@dataclass
class MFAStack:
    """One framework serving the MFA test app, with its bastion and its clock."""

    name: str
    url: str
    clock: ManualClock
    app: bastion.Bastion

    def client(self, mode: str = "cookie") -> SessionClient:
        return SessionClient(self.url, mode)  # type: ignore[arg-type]

    def code(self, secret: str, *, steps: int = 0, **kwargs: Any) -> str:
        """The code an authenticator app shows now (``steps`` periods later), from pyotp."""
        return str(pyotp.TOTP(secret, **kwargs).at(self.clock.now_ms() // 1000 + 30 * steps))

    def wrong_code(self, secret: str) -> str:
        """A 6-digit code valid for no step of the ±1 window."""
        valid = {self.code(secret, steps=s) for s in (-1, 0, 1)}
        return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in valid)


StartMFA = Callable[..., MFAStack]


@pytest.fixture
def start_mfa(databases: Databases, serve: Any, serve_wsgi: Any) -> Iterator[StartMFA]:
    """``start_mfa(name="fastapi", mfa=..., totp_config=..., **session_settings)``."""
    made: list[bastion.Bastion] = []

    def start(
        name: str = "fastapi",
        *,
        mfa: Any = None,
        totp_config: totp.TOTPConfig | None = None,
        encryption_keys: list[str] | None = None,
        **session_settings: Any,
    ) -> MFAStack:
        clock = ManualClock(T0_MS)
        app = bastion.init(
            app_info=app_info(),
            framework="fastapi" if name == "fastapi" else name.split("-")[0],  # type: ignore[arg-type]
            mode="asgi" if name in ASGI else "wsgi",
            recipe_list=[
                session.init(**session_settings),
                mfa
                or multifactorauth.init(
                    first_factors=["emailpassword"], required_secondary_factors=["totp"]
                ),
                totp.init(totp_config),
            ],
            database_url=databases.fresh(name),
            clock=clock,
            encryption_keys=encryption_keys,
        )
        made.append(app)
        web = BUILDERS[name]()
        server = serve(web) if name in ASGI else serve_wsgi(web)
        return MFAStack(name, server.url, clock, app)

    yield start
    for app in made:
        app.close()


def api(client: SessionClient, method: str, path: str, body: Any = None, rid: str = "totp") -> Any:
    """Call bastion's API as the SDK does; returns the response."""
    kwargs: dict[str, Any] = {"headers": {"rid": rid}}
    if body is not None:
        kwargs["json"] = body
    return client.request(method, "/auth" + path, **kwargs)


def enroll(stack: MFAStack, client: SessionClient) -> str:
    """Create and verify a TOTP device; returns its secret."""
    created = api(client, "POST", "/totp/device", {})
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["status"] == "OK", body
    verified = api(
        client,
        "POST",
        "/totp/device/verify",
        {"deviceName": body["deviceName"], "totp": stack.code(body["secret"])},
    )
    assert verified.json() == {"status": "OK", "wasAlreadyVerified": False}
    return str(body["secret"])


def mfa_claim(client: SessionClient) -> dict[str, Any]:
    claim: dict[str, Any] = client.payload()["st-mfa"]
    return claim
