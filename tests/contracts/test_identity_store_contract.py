"""The gateway's identity store on every backend: SQLite (`IdentityStore`), and MongoDB
(`MongoIdentityStore`; FerretDB under `make engines`) when an engine is reachable.

Users with case-insensitively unique usernames and emails, password hashes and roles;
session and personal tokens stored by hash, with expiry and revocation; UserRegistered
queued in the outbox by the sign-up itself."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time

import pytest
from pymongo.errors import DuplicateKeyError

from backbone.events import UserRegistered
from backbone.ids import new_id
from gateway.identity.store import EmailTaken, Token, User, UsernameTaken
from tests.engines import unique_prefix

_n = itertools.count(1)


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request, tmp_path):
    """A started, empty identity store of each backend; a Mongo one gets its own database."""
    if request.param == "sqlite":
        from gateway.identity.store import IdentityStore

        store = IdentityStore(tmp_path / "gateway.db")
    else:
        from gateway.identity.mongo import MongoIdentityStore

        store = MongoIdentityStore(request.getfixturevalue("mongodb_url"), unique_prefix("identity") + "db")
    await store.start()
    try:
        yield store
    finally:
        if request.param == "mongo":
            await store.drop()
        await store.close()


def make_user(**overrides) -> User:
    n = next(_n)
    values = dict(id=new_id(), username=f"User{n}", email=f"User{n}@Example.org", display_name=f"User Number {n}",
                  password_hash=f"$argon2id$fake${n}", roles=frozenset({"member"}), created_at=time.time())
    values.update(overrides)
    return User(**values)


def registered(user: User) -> UserRegistered:
    return UserRegistered(user_id=user.id, username=user.username, display_name=user.display_name)


async def add(store, user: User) -> User:
    await store.add_user(user, registered(user))
    return user


def make_token(user: User, *, kind: str = "api", name: str = "laptop", expires_in: float | None = None,
               created_at: float | None = None) -> Token:
    now = created_at if created_at is not None else time.time()
    return Token(new_id(), user.id, kind, name, now, now + expires_in if expires_in is not None else None, None)


async def queued(store) -> list:
    return [envelope for _, envelope in await store.outbox().pending(1000)]


# -- users --------------------------------------------------------------------------------


async def test_a_user_comes_back_by_id_and_by_username_in_any_case(store):
    user = await add(store, make_user(username="Ada.Lovelace", roles=frozenset({"member", "moderator"})))
    assert await store.user_by_id(user.id) == user
    assert await store.user_by_username("ada.lovelace") == user
    assert await store.user_by_username("ADA.LOVELACE") == user
    assert await store.user_by_username("ada") is None
    assert await store.user_by_id(new_id()) is None
    assert await store.ping()


async def test_usernames_and_emails_are_unique_ignoring_case_and_a_refused_sign_up_leaves_nothing(store):
    first = await add(store, make_user(username="grace", email="grace@example.org"))
    same_name = make_user(username="GRACE", email="other@example.org")
    with pytest.raises(UsernameTaken):
        await add(store, same_name)
    same_email = make_user(username="hopper", email="Grace@Example.ORG")
    with pytest.raises(EmailTaken):
        await add(store, same_email)
    assert await store.user_by_id(same_name.id) is None and await store.user_by_id(same_email.id) is None
    assert await store.users_after(None, 10) == [first]
    assert [e.aggregate_id for e in await queued(store)] == [first.id]
    # Both taken: either may be reported (the engines check in different orders).
    with pytest.raises((UsernameTaken, EmailTaken)):
        await add(store, make_user(username="Grace", email="GRACE@example.org"))


async def test_of_two_racing_sign_ups_with_one_username_exactly_one_succeeds(store):
    a, b = make_user(username="racer"), make_user(username="Racer")
    results = await asyncio.gather(add(store, a), add(store, b), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["User", "UsernameTaken"], results
    winner = a if results[0] is a else b
    assert await store.user_by_username("racer") == winner
    assert [e.aggregate_id for e in await queued(store)] == [winner.id]


async def test_users_after_walks_every_user_in_id_order(store):
    users = [await add(store, make_user()) for _ in range(5)]
    ids = sorted(u.id for u in users)
    first = await store.users_after(None, 2)
    assert [u.id for u in first] == ids[:2]
    assert [u.id for u in await store.users_after(first[-1].id, 10)] == ids[2:]
    assert await store.users_after(ids[-1], 10) == []
    assert await store.users_after(None, 0) == []


async def test_roles_password_hashes_and_display_names_can_be_changed(store):
    user = await add(store, make_user())
    other = await add(store, make_user())
    await store.set_roles(user.id, frozenset({"member", "admin", "moderator"}))
    await store.set_password_hash(user.id, "$argon2id$new")
    await store.set_display_name(user.id, "Ada L.")
    changed = await store.user_by_id(user.id)
    assert changed.roles == {"member", "admin", "moderator"} and changed.password_hash == "$argon2id$new"
    assert changed.display_name == "Ada L."
    assert (changed.username, changed.email, changed.created_at) == (user.username, user.email, user.created_at)
    assert await store.user_by_id(other.id) == other
    # Changing a user queues no event (only the sign-up does).
    assert len(await queued(store)) == 2


async def test_a_sign_up_queues_user_registered_once(store):
    user = await add(store, make_user(display_name="Ada L."))
    [event] = await queued(store)
    assert (event.type, event.aggregate_id, event.aggregate_version, event.producer) == (
        "UserRegistered", user.id, 1, "gateway")
    assert event.payload == {"user_id": user.id, "username": user.username, "display_name": "Ada L."}
    outbox = store.outbox()
    await outbox.remove([marker for marker, _ in await outbox.pending(10)])
    assert await queued(store) == []
    # The user survives the outbox being emptied, and later changes are kept.
    await store.set_roles(user.id, frozenset({"member", "admin"}))
    assert (await store.user_by_id(user.id)).roles == {"member", "admin"}


# -- tokens -------------------------------------------------------------------------------


async def test_a_live_token_finds_its_user_and_nothing_else_does(store):
    user = await add(store, make_user())
    session = make_token(user, kind="session", name="login", expires_in=3600)
    await store.add_token(session, "sss_secret-one")
    found = await store.user_for_token("sss_secret-one")
    assert found == (user, session)
    assert await store.user_for_token("sss_secret-two") is None
    assert await store.user_for_token("") is None


async def test_expired_and_revoked_tokens_find_nobody(store):
    user = await add(store, make_user())
    expired = make_token(user, kind="session", name="login", created_at=time.time() - 7200, expires_in=3600)
    await store.add_token(expired, "sss_expired")
    assert await store.user_for_token("sss_expired") is None
    api = make_token(user)
    await store.add_token(api, "ssp_personal")
    assert (await store.user_for_token("ssp_personal"))[1] == api
    assert await store.revoke_token(user.id, api.id) is True
    assert await store.user_for_token("ssp_personal") is None
    assert await store.revoke_token(user.id, api.id) is False  # already revoked
    assert await store.revoke_token(user.id, new_id()) is False


async def test_only_the_owner_can_revoke_a_token(store):
    owner, stranger = await add(store, make_user()), await add(store, make_user())
    token = make_token(owner)
    await store.add_token(token, "ssp_owned")
    assert await store.revoke_token(stranger.id, token.id) is False
    assert await store.user_for_token("ssp_owned") is not None


async def test_of_two_racing_revocations_exactly_one_reports_it(store):
    user = await add(store, make_user())
    token = make_token(user)
    await store.add_token(token, "ssp_race")
    results = await asyncio.gather(*(store.revoke_token(user.id, token.id) for _ in range(4)))
    assert sorted(results) == [False, False, False, True]


async def test_tokens_of_lists_live_personal_tokens_in_creation_order(store):
    user, other = await add(store, make_user()), await add(store, make_user())
    now = time.time()
    first = make_token(user, name="first", created_at=now - 30)
    second = make_token(user, name="second", created_at=now - 20)
    third = make_token(user, name="third", created_at=now - 10)
    for token, secret in ((third, "ssp_3"), (first, "ssp_1"), (second, "ssp_2")):
        await store.add_token(token, secret)
    await store.add_token(make_token(user, kind="session", name="login", expires_in=60), "sss_session")
    await store.add_token(make_token(other, name="theirs"), "ssp_theirs")
    assert await store.tokens_of(user.id) == [first, second, third]
    await store.revoke_token(user.id, second.id)
    assert [t.name for t in await store.tokens_of(user.id)] == ["first", "third"]
    assert await store.tokens_of(new_id()) == []


async def test_a_token_secret_is_unique(store):
    user = await add(store, make_user())
    await store.add_token(make_token(user), "ssp_same")
    with pytest.raises((sqlite3.IntegrityError, DuplicateKeyError)):  # each engine's own integrity error
        await store.add_token(make_token(user), "ssp_same")
    assert len(await store.tokens_of(user.id)) == 1


async def test_mongo_two_processes_signing_up_one_username_let_exactly_one_succeed(request):
    """Two gateway replicas: the unique index, not the in-process lock, refuses the second."""
    from gateway.identity.mongo import MongoIdentityStore

    url, database = request.getfixturevalue("mongodb_url"), unique_prefix("identity2") + "db"
    one, two = MongoIdentityStore(url, database), MongoIdentityStore(url, database)
    await one.start()
    await two.start()
    try:
        for round_ in range(5):
            a = make_user(username=f"twin{round_}", email=f"a{round_}@example.org")
            b = make_user(username=f"TWIN{round_}", email=f"b{round_}@example.org")
            results = await asyncio.gather(add(one, a), add(two, b), return_exceptions=True)
            assert sorted(type(r).__name__ for r in results) == ["User", "UsernameTaken"], results
        assert len(await one.users_after(None, 100)) == 5
        assert len(await queued(two)) == 5
    finally:
        await one.drop()
        await one.close()
        await two.close()


async def test_revoke_sessions_keeps_the_named_session_personal_tokens_and_other_users(store):
    users = []
    for name in ("owner", "bystander"):
        user = User(new_id(), name, f"{name}@example.org", name, "$argon2id$fake", frozenset({"member"}), time.time())
        await store.add_user(user, UserRegistered(user_id=user.id, username=name, display_name=name))
        users.append(user)
    owner, bystander = users
    secrets = {}
    for label, user, kind in (("kept", owner, "session"), ("other", owner, "session"), ("api", owner, "api"),
                              ("bystander", bystander, "session")):
        now = time.time()
        token = Token(new_id(), user.id, kind, label, now, now + 3600 if kind == "session" else None, None)
        await store.add_token(token, f"secret-{label}")
        secrets[label] = token

    assert await store.revoke_sessions(owner.id, keep=secrets["kept"].id) == 1

    live = {label for label in secrets if await store.user_for_token(f"secret-{label}") is not None}
    assert live == {"kept", "api", "bystander"}
    assert await store.revoke_sessions(owner.id) == 1  # without `keep`: every session
    assert await store.user_for_token("secret-kept") is None
    assert await store.user_for_token("secret-api") is not None
