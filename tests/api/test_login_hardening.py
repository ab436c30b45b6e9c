"""Login: one argon2 verification whatever the login, limits across addresses and logins, trusted proxies
only, and a password change or reset ends the user's sessions and API tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from callrouter.api.app import create_app
from callrouter.api.security import LoginLimits, LoginRateLimiter
from callrouter.settings import Settings
from callrouter.wiring import Container
from crm_core.models import Manager
from crm_core.services import passwords
from crm_core.services.passwords import hash_password
from tests.api.conftest import PASSWORD, Staff

LOGIN = "/api/v1/auth/login"


def _set_password(db: Session, manager: Manager) -> None:
    db.get(Manager, manager.id).password_hash = hash_password(PASSWORD)  # type: ignore[union-attr]
    db.commit()


class CountingHasher:
    """Stands in for the module's argon2 hasher and records every hash it verifies against."""

    def __init__(self, real: PasswordHasher) -> None:
        self.real = real
        self.verified: list[str] = []

    def verify(self, hash_: str, password: str) -> bool:
        self.verified.append(hash_)
        return self.real.verify(hash_, password)

    def hash(self, password: str) -> str:
        return self.real.hash(password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)
    return counting


def _login(client: TestClient, login: str, password: str, **headers: str) -> int:
    return client.post(LOGIN, json={"login": login, "password": password}, headers=headers).status_code


@pytest.mark.parametrize("login", ["ghost", "manager", "inactive"])
def test_every_failed_login_costs_one_real_argon2_verification(
    client: TestClient, staff: Staff, db: Session, hasher: CountingHasher, login: str
) -> None:
    _set_password(db, staff.manager)
    _set_password(db, staff.other)
    db.get(Manager, staff.other.id).login = "inactive"  # type: ignore[union-attr]
    db.get(Manager, staff.other.id).active = False  # type: ignore[union-attr]
    db.commit()
    assert _login(client, login, "wrong password") == 401
    assert len(hasher.verified) == 1
    assert hasher.verified[0].startswith("$argon2id$")


def test_an_unreadable_stored_hash_costs_a_verification_too(hasher: CountingHasher) -> None:
    assert passwords.verify_password("not-an-argon2-hash", "whatever") is False
    assert hasher.verified == ["not-an-argon2-hash", passwords._DUMMY_HASH]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_login_is_limited_across_addresses_and_one_address_across_logins() -> None:
    clock = FakeClock()
    limiter = LoginRateLimiter(LoginLimits(per_login_and_address=3, per_login=5, per_address=7), clock)
    for n in range(5):
        limiter.check("Boss", f"198.51.100.{n}")
        limiter.failed("Boss", f"198.51.100.{n}")
    with pytest.raises(Exception, match="too-many-login-attempts"):
        limiter.check("boss", "203.0.113.99")  # a sixth address: the login itself is locked
    limiter.check("someone-else", "203.0.113.99")

    for n in range(7):
        limiter.check(f"user{n}", "192.0.2.1")
        limiter.failed(f"user{n}", "192.0.2.1")
    with pytest.raises(Exception, match="too-many-login-attempts"):
        limiter.check("yet-another", "192.0.2.1")  # the address tried too many logins
    limiter.check("yet-another", "192.0.2.2")

    clock.now += limiter.limits.window_s
    limiter.check("boss", "203.0.113.99")
    limiter.check("yet-another", "192.0.2.1")


@pytest.fixture
def proxied_app_client(
    settings: Settings, engine: object, sessions: object
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two clients of one app trusting 10.0.0.1 as a proxy: one from the proxy, one from elsewhere."""
    trusting = settings.model_copy(update={"trusted_proxies": ["10.0.0.0/30"]})
    app = create_app(Container(settings=trusting, engine=engine, sessions=sessions))  # type: ignore[arg-type]
    app.state.login_limiter = LoginRateLimiter(LoginLimits(per_login_and_address=2, per_login=100))
    with (
        TestClient(app, client=("10.0.0.1", 40000)) as via_proxy,
        TestClient(app, client=("198.51.100.9", 40000)) as direct,
    ):
        yield via_proxy, direct


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    proxied_app_client: tuple[TestClient, TestClient], staff: Staff
) -> None:
    via_proxy, direct = proxied_app_client
    for _ in range(2):
        assert _login(direct, "manager", "wrong", **{"X-Forwarded-For": "203.0.113.1"}) == 401
    # from an untrusted peer the header is ignored: a "new" address is still the same peer, locked
    assert _login(direct, "manager", "wrong", **{"X-Forwarded-For": "203.0.113.2"}) == 429

    for _ in range(2):
        assert _login(via_proxy, "manager", "wrong", **{"X-Forwarded-For": "203.0.113.1"}) == 401
    assert _login(via_proxy, "manager", "wrong", **{"X-Forwarded-For": "203.0.113.1"}) == 429
    # behind the trusted proxy each forwarded client is its own address
    assert _login(via_proxy, "manager", "wrong", **{"X-Forwarded-For": "203.0.113.3"}) == 401


def test_a_password_reset_ends_sessions_and_revokes_api_tokens(
    client: TestClient, staff: Staff, db: Session
) -> None:
    _set_password(db, staff.manager)
    access = client.post(LOGIN, json={"login": "manager", "password": PASSWORD}).json()["access_token"]
    old_session = {"Authorization": f"Bearer {access}"}
    issued = client.post("/api/v1/auth/api-tokens", json={"name": "1C"}, headers=old_session).json()
    old_api_token = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/auth/me", headers=old_session).status_code == 200
    assert client.get("/api/v1/auth/me", headers=old_api_token).status_code == 200

    reset = client.post(
        f"/api/v1/managers/{staff.manager.id}/password",
        json={"new_password": "a brand new secret"},
        headers=staff.headers(staff.admin),
    )
    assert reset.status_code == 204, reset.text
    ended = client.get("/api/v1/auth/me", headers=old_session)
    assert ended.status_code == 401 and ended.json()["error"] == "session-ended"
    revoked = client.get("/api/v1/auth/me", headers=old_api_token)
    assert revoked.status_code == 401 and revoked.json()["error"] == "invalid-token"
    assert client.get("/api/v1/auth/me", headers=staff.headers(staff.admin)).status_code == 200  # others stay

    fresh = client.post(LOGIN, json={"login": "manager", "password": "a brand new secret"}).json()
    mine = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=mine).status_code == 200
    own_change = client.post(
        f"/api/v1/managers/{staff.manager.id}/password",
        json={"current_password": "a brand new secret", "new_password": "yet another secret"},
        headers=mine,
    )
    assert own_change.status_code == 204
    assert client.get("/api/v1/auth/me", headers=mine).json()["error"] == "session-ended"
