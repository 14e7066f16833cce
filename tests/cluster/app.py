"""The app every process of the cluster test runs: FastAPI under uvicorn, Flask under gunicorn.

Configured from the environment, as a deployment would be: ``BASTION_DATABASE_URL`` (read by
``bastion.init`` itself) and ``BASTION_TEST_CLOCK_FILE``, a file holding a clock offset in ms that
the test writes to move time for every process at once (key rotation, TOTP steps).

Routes: ``GET /health``; ``GET /verify`` (any valid session, no database read);
``GET /verify-db`` (``check_database=True``); ``GET /whoami`` (user, session handle, process id).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import bastion
from bastion.core.passwords import PasswordHashing
from bastion.email import InMemoryOutbox
from bastion.recipe import emailpassword, multifactorauth, session, totp

CLOCK_FILE = "BASTION_TEST_CLOCK_FILE"


class OffsetClock:
    """Real time plus an offset that the test controls through a file."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def now_ms(self) -> int:
        try:
            offset = int(self.path.read_text() or 0)
        except (OSError, ValueError):
            offset = 0
        return time.time_ns() // 1_000_000 + offset


def init(framework: str) -> bastion.Bastion:
    return bastion.init(
        app_info=bastion.InputAppInfo(
            app_name="cluster",
            api_domain="http://127.0.0.1",
            website_domain="http://127.0.0.1:3000",
            api_base_path="/auth",
            website_base_path="/auth",
        ),
        framework=framework,  # type: ignore[arg-type]
        recipe_list=[
            session.init(),
            emailpassword.init(
                password_hashing=PasswordHashing(time_cost=1, memory_cost_kib=1024),
                email_delivery=InMemoryOutbox(),
            ),
            multifactorauth.init(first_factors=["emailpassword"]),
            totp.init(),
        ],
        clock=OffsetClock(os.environ[CLOCK_FILE]),
        api_requests_per_minute=100_000,
        encryption_keys=["00" * 32],
    )


def fastapi_app() -> Any:
    from fastapi import Depends, FastAPI

    from bastion.framework.fastapi import get_middleware
    from bastion.recipe.session import SessionContainer
    from bastion.recipe.session.framework.fastapi import verify_session

    init("fastapi")
    app = FastAPI()
    app.add_middleware(get_middleware())

    @app.get("/health")
    async def health() -> dict[str, int]:
        return {"pid": os.getpid()}

    @app.get("/verify")
    async def verify(s: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
        return {"user": s.get_user_id()}

    @app.get("/verify-db")
    async def verify_db(
        s: SessionContainer = Depends(verify_session(check_database=True)),
    ) -> dict[str, Any]:
        return {"user": s.get_user_id()}

    @app.get("/whoami")
    async def whoami(s: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
        return {"user": s.get_user_id(), "handle": s.get_handle(), "pid": os.getpid()}

    return app


def flask_app() -> Any:
    from flask import Flask

    from bastion.framework.flask import Middleware
    from bastion.recipe.session.framework.flask import get_session, verify_session

    init("flask")
    app = Flask(__name__)
    Middleware(app)

    def current() -> Any:
        found = get_session()
        assert found is not None
        return found

    @app.get("/health")
    def health() -> Any:
        return {"pid": os.getpid()}

    @app.get("/verify")
    @verify_session()
    def verify() -> Any:
        return {"user": current().get_user_id()}

    @app.get("/verify-db")
    @verify_session(check_database=True)
    def verify_db() -> Any:
        return {"user": current().get_user_id()}

    @app.get("/whoami")
    @verify_session()
    def whoami() -> Any:
        return {
            "user": current().get_user_id(),
            "handle": current().get_handle(),
            "pid": os.getpid(),
        }

    return app
