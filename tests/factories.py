"""Plain factory functions for test records; each commits so the API sees the row."""

import itertools
from datetime import date

from sqlmodel import Session, select

from app.models import ApiToken, Role, TokenKind, Unit, User
from app.security import hash_password, new_token

_seq = itertools.count(1)
# Hashing with argon2 is slow on purpose; the factories share one hash of the test password.
TEST_PASSWORD = "secret-pass-1"
_TEST_PASSWORD_HASH = hash_password(TEST_PASSWORD)


def unit(session: Session, code: str) -> Unit:
    """A seeded unit by code."""
    found = session.exec(select(Unit).where(Unit.code == code)).one()
    return found


def make_unit(session: Session, **overrides) -> Unit:
    n = next(_seq)
    values = {"code": f"test-unit-{n}", "name_vi": f"Đơn vị thử {n}", "kind": "department",
              "valid_from": date(2022, 1, 1)}
    values.update(overrides)
    if "parent_code" in values:
        values["parent_id"] = unit(session, values.pop("parent_code")).id
    u = Unit(**values)
    session.add(u)
    session.commit()
    return u


def make_user(session: Session, role: str = "officer", unit_code: str | None = None, **overrides) -> User:
    n = next(_seq)
    values = {"username": f"user{n}", "full_name": f"Người dùng {n}", "role": Role(role),
              "password_hash": _TEST_PASSWORD_HASH}
    if unit_code:
        values["unit_id"] = unit(session, unit_code).id
    values.update(overrides)
    user = User(**values)
    session.add(user)
    session.commit()
    return user


def make_token(session: Session, user: User, *, scopes: str = "read write", unit_code: str | None = None,
               kind: TokenKind = TokenKind.api, **overrides) -> str:
    """A bearer token for `user`; returns the token value."""
    token, token_hash = new_token()
    row = ApiToken(user_id=user.id, kind=kind, name="test", token_hash=token_hash, prefix=token[:10],
                   scopes=scopes, unit_id=unit(session, unit_code).id if unit_code else None, **overrides)
    session.add(row)
    session.commit()
    return token


def login_headers(session: Session, role: str = "coordinator", unit_code: str | None = None) -> dict[str, str]:
    """Authorization headers of a fresh user with `role`."""
    user = make_user(session, role=role, unit_code=unit_code)
    return {"Authorization": f"Bearer {make_token(session, user, kind=TokenKind.login)}"}
