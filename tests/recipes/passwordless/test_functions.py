"""The passwordless functions for app code (``asyncio``/``syncio``), SMS delivery, settings and
overrides."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest

from bastion import syncio as users
from bastion.bridge import run_sync
from bastion.clock import ManualClock
from bastion.email import EmailMessage, InMemoryOutbox
from bastion.errors import ConfigError
from bastion.recipe import passwordless, session
from bastion.recipe.passwordless import (
    CodeThrottling,
    ConsoleSmsBackend,
    InMemorySmsOutbox,
    LoginMessage,
    OverrideConfig,
    RecipeInterface,
    SmsMessage,
)
from bastion.recipe.passwordless import asyncio as pl_async
from bastion.recipe.passwordless import syncio as pl
from bastion.recipe.passwordless.codes import (
    device_matches,
    new_device,
    new_user_input_code,
    pre_auth_session_id_of,
)
from bastion.recipe.passwordless.contact import is_fake_email, normalise_phone_number
from bastion.recipe.passwordless.interfaces import (
    ConsumeCodeOkResult,
    IncorrectUserInputCodeError,
    RestartFlowError,
)
from bastion.recipe.session import syncio as sessions
from tests.conftest import InitApp
from tests.recipes.passwordless.conftest import FDI, StartPL, consume, create_code

EMAIL = "ada@example.com"
PHONE = "+14155550100"


@pytest.fixture
def app(init_app: InitApp) -> Any:
    return init_app(
        [
            session.init(),
            passwordless.init(
                "EMAIL_OR_PHONE", email_delivery=InMemoryOutbox(), sms_delivery=InMemorySmsOutbox()
            ),
        ]
    )


def test_create_and_consume_without_http(app: Any, clock: ManualClock) -> None:
    created = pl.create_code("public", email=" Ada@Example.com ")
    assert re.fullmatch(r"[0-9]{6}", created.user_input_code)
    assert created.code_life_time == 600_000
    assert created.time_created == clock.now_ms()
    assert pre_auth_session_id_of(created.device_id) == created.pre_auth_session_id
    wrong = "000000" if created.user_input_code != "000000" else "111111"
    result = pl.consume_code(
        "public", created.pre_auth_session_id, user_input_code=wrong, device_id=created.device_id
    )
    assert result == IncorrectUserInputCodeError(1, 5)
    result = pl.consume_code(
        "public",
        created.pre_auth_session_id,
        user_input_code=created.user_input_code,
        device_id=created.device_id,
    )
    assert isinstance(result, ConsumeCodeOkResult)
    assert result.created_new_recipe_user is True
    assert result.purpose == "signinup"
    assert result.user.emails == ["Ada@Example.com"]
    assert users.get_user(result.user.id) == result.user
    # Nothing was sent and no session was made: these are data functions.
    assert app.recipes["passwordless"].config.email_delivery.messages == []
    assert run_sync(app.store.list_session_handles(result.user.id, tenant_id=None, now_ms=0)) == []
    again = pl.consume_code("public", created.pre_auth_session_id, link_code=created.link_code)
    assert again == RestartFlowError()


def test_magic_link_and_listing_and_revoking(app: Any, clock: ManualClock) -> None:
    link = pl.create_magic_link("public", email=EMAIL)
    assert link.startswith("http://127.0.0.1:3000/auth/verify?preAuthSessionId=")
    clock.advance(1)
    second = pl.create_code("public", email="ADA@example.com")
    phone = pl.create_code("public", phone_number="+1 415-555-0100")
    listed = pl.list_codes_by_email("public", "Ada@Example.COM")
    assert len(listed) == 2
    assert [d.email for d in listed] == [EMAIL, "ADA@example.com"]
    assert all(d.purpose == "signinup" and d.failed_code_input_attempt_count == 0 for d in listed)
    assert listed[1].codes[0].code_id == second.code_id
    assert listed[1].codes[0].code_life_time == 600_000
    by_phone = pl.list_codes_by_phone_number("public", PHONE)
    assert [d.pre_auth_session_id for d in by_phone] == [phone.pre_auth_session_id]
    assert pl.list_codes_by_device_id("public", phone.device_id) == by_phone[0]
    assert pl.list_codes_by_device_id("public", "not a device id") is None
    assert pl.list_codes_by_pre_auth_session_id("other-tenant", phone.pre_auth_session_id) is None
    pl.revoke_code("public", second.code_id)
    assert len(pl.list_codes_by_email("public", EMAIL)) == 1
    pl.revoke_all_codes("public", email=EMAIL)
    assert pl.list_codes_by_email("public", EMAIL) == []
    assert pl.list_codes_by_phone_number("public", PHONE) != []
    resent = pl.create_new_code_for_device("public", phone.device_id)
    assert not isinstance(resent, RestartFlowError)
    assert resent.code_id != phone.code_id
    assert pl.list_codes_by_phone_number("public", PHONE)[0].codes[0].code_id == resent.code_id
    assert pl.create_new_code_for_device("public", second.device_id) == RestartFlowError()
    with pytest.raises(ConfigError):
        pl.create_code("public", phone_number="555-0100")
    with pytest.raises(ConfigError):
        pl.create_code("public")


def test_signinup_finds_or_creates_the_user(app: Any) -> None:
    first = pl.signinup("public", phone_number=PHONE)
    assert first.created_new_recipe_user is True
    assert first.user.phone_numbers == [PHONE]
    assert first.user.to_json()["phoneNumbers"] == [PHONE]
    assert first.user.to_json()["loginMethods"][0]["phoneNumber"] == PHONE
    again = pl.signinup("public", phone_number="+1 (415) 555 0100")
    assert again.created_new_recipe_user is False
    assert again.user.id == first.user.id


def test_codes_bound_to_a_session(app: Any) -> None:
    user = pl.signinup("public", email=EMAIL).user
    mine = sessions.create_new_session_without_request_response(user.id)
    other = sessions.create_new_session_without_request_response(user.id)
    created = pl.create_code("public", email="ADA@EXAMPLE.COM", session=mine)
    listed = pl.list_codes_by_email("public", EMAIL)[0]
    assert (listed.purpose, listed.user_id, listed.session_handle) == (
        "factor",
        user.id,
        mine.get_handle(),
    )
    assert listed.email == EMAIL  # the address on file
    code = {"user_input_code": created.user_input_code, "device_id": created.device_id}
    assert pl.consume_code("public", created.pre_auth_session_id, **code) == RestartFlowError()
    assert (
        pl.consume_code("public", created.pre_auth_session_id, session=other, **code)
        == RestartFlowError()
    )
    done = pl.consume_code("public", created.pre_auth_session_id, session=mine, **code)
    assert isinstance(done, ConsumeCodeOkResult)
    assert (done.purpose, done.user.id, done.created_new_recipe_user) == ("factor", user.id, False)
    # A setup: consuming adds the phone number to the user.
    setup = pl.create_code("public", phone_number=PHONE, session=mine)
    added = pl.consume_code(
        "public",
        setup.pre_auth_session_id,
        user_input_code=setup.user_input_code,
        device_id=setup.device_id,
        session=mine,
    )
    assert isinstance(added, ConsumeCodeOkResult)
    assert added.purpose == "setup"
    assert added.created_new_recipe_user is True
    assert added.user.phone_numbers == [PHONE]


def test_deleting_a_user_drops_their_bound_codes(app: Any) -> None:
    user = pl.signinup("public", email=EMAIL).user
    mine = sessions.create_new_session_without_request_response(user.id)
    pl.create_code("public", email=EMAIL, session=mine)
    assert pl.list_codes_by_email("public", EMAIL) != []
    assert users.delete_user(user.id) is True
    assert pl.list_codes_by_email("public", EMAIL) == []


def test_async_functions_are_the_same_coroutines(app: Any) -> None:
    created = run_sync(pl_async.create_code("public", email=EMAIL))
    assert run_sync(pl_async.list_codes_by_email("public", EMAIL))[0].codes[0].code_id == (
        created.code_id
    )


def test_codes_and_devices_are_random_and_well_formed() -> None:
    codes = [new_user_input_code() for _ in range(500)]
    assert all(re.fullmatch(r"[0-9]{6}", c) for c in codes)
    assert len(set(codes)) > 480
    devices = {new_device() for _ in range(100)}
    assert len(devices) == 100
    for device_id, pre_auth in devices:
        assert device_matches(device_id, pre_auth)
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", pre_auth)
    device_id, pre_auth = next(iter(devices))
    raw = bytearray(base64.b64decode(device_id))
    raw[-1] ^= 1
    assert not device_matches(base64.b64encode(bytes(raw)).decode(), pre_auth)
    assert pre_auth_session_id_of("ü") is None
    assert pre_auth_session_id_of("AAAA") is None  # decodes, but not 32 bytes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+14155550100", "+14155550100"),
        (" +1 (415) 555-0100 ", "+14155550100"),
        ("+44.20.7946.0000", "+442079460000"),
        ("14155550100", None),
        ("+1415555010012345", None),
        ("+123456", None),
        ("+0123456789", None),
        ("", None),
        ("+1" + "0" * 80, None),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw: str, expected: str | None) -> None:
    assert normalise_phone_number(raw) == expected


def test_fake_emails_are_not_contacts() -> None:
    assert is_fake_email("u1@stfakeemail.supertokens.com")
    assert is_fake_email(" X@Anything.FakeEmail.com")
    assert not is_fake_email(EMAIL)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"contact_method": "SMS"},
        {"flow_type": "LINK"},
        {"code_lifetime": 59},
        {"code_lifetime": 901},
        {"max_code_input_attempts": 0},
        {"max_code_input_attempts": 6},
    ],
)
def test_settings_are_checked(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        passwordless.init(**kwargs)


def test_throttling_settings_are_checked() -> None:
    with pytest.raises(ConfigError):
        CodeThrottling(sends_per_account=0)


def test_phone_codes_go_by_sms(start_pl: StartPL, framework: str) -> None:
    stack = start_pl(framework, contact_method="PHONE")
    with stack.client() as client:
        started = create_code(client, phoneNumber="+1 415 555 0100").json()
        assert started["status"] == "OK"
        (message,) = stack.sms.to(PHONE)
        assert message.kind == "passwordless-login"
        assert "Your bastion-tests code is" in message.text
        body = consume(client, started, stack.code_for(PHONE)).json()
        assert body["user"]["phoneNumbers"] == [PHONE]
        assert body["user"]["emails"] == []
        assert body["user"]["loginMethods"][0]["phoneNumber"] == PHONE
        refused = create_code(client, email=EMAIL)
        assert refused.status_code == 400
        assert refused.json()["message"] == (
            'Please provide a phoneNumber since you have set the contactMethod to "PHONE"'
        )
        assert (
            client.get("/auth/passwordless/email/exists", params={"email": EMAIL}).status_code
            == 404
        )


def test_console_sms_backend_withholds_codes_outside_localhost() -> None:
    stream = io.StringIO()
    ConsoleSmsBackend(stream, production=True).send(SmsMessage(PHONE, "code 123456"))
    assert "123456" not in stream.getvalue()
    ConsoleSmsBackend(stream, production=False).send(SmsMessage(PHONE, "code 654321"))
    assert "654321" in stream.getvalue()


def test_failing_delivery_does_not_change_the_answer(
    start_pl: StartPL, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def send(self, message: EmailMessage) -> None:
            raise OSError("mail server down")

    stack = start_pl(email_delivery=Broken())
    with stack.client() as client:
        assert create_code(client, email=EMAIL).json()["status"] == "OK"
    assert "sending the passwordless-login email failed" in caplog.text
    assert not re.search(r"(?<![0-9])[0-9]{6}(?![0-9])", caplog.text)


def test_overrides_change_the_message_and_disable_routes(start_pl: StartPL) -> None:
    def functions(original: RecipeInterface) -> RecipeInterface:
        async def build_login_email(message: LoginMessage, user_context: Any) -> EmailMessage:
            return EmailMessage(
                to=message.contact.address,
                subject="Custom",
                text=f"code={message.user_input_code} first={message.is_first_factor}",
                kind="passwordless-login",
            )

        original.build_login_email = build_login_email  # type: ignore[method-assign]
        return original

    def apis(original: Any) -> Any:
        original.disable_resend_code_post = True
        return original

    stack = start_pl(override=OverrideConfig(functions=functions, apis=apis))
    with stack.client() as client:
        started = create_code(client, email=EMAIL).json()
        message = stack.last_email(EMAIL)
        assert message.subject == "Custom"
        assert message.text == f"code={stack.code_for(EMAIL)} first=True"
        resend = client.post(
            "/auth/signinup/code/resend",
            json={"deviceId": started["deviceId"], "preAuthSessionId": started["preAuthSessionId"]},
            headers=FDI,
        )
        assert resend.status_code == 404  # fell through to the app, which has no such route
