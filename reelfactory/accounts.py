"""Who may use the web app and the API: users, brand-scoped roles, sessions, API tokens,
login throttling, and the briefs they submitted.

Secrets are never stored: passwords as argon2id hashes, session and API tokens as SHA-256
digests of random 256-bit values (the cookie or header carries the token itself).
Decisions (``may_submit``, ``visible_brands``, ``login_throttled``) are pure; the rest
reads or writes the database through a ``Session`` the caller owns.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from reelfactory.errors import InputError
from reelfactory.models import Brief, _email

ANY_BRAND = "*"
MIN_PASSWORD = 12
_hasher = PasswordHasher()  # argon2id with the library's current parameters
# Verified against when the email is unknown, so a miss costs what a hit costs.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    SUBMITTER = "submitter"  # submits and tracks briefs for their brands
    APPROVER = "approver"  # sees their brands' briefs (sign-off itself is in the Prefect UI)
    ADMIN = "admin"  # everything a submitter and an approver may, for their brands


class UserRow(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    password_hash: str = ""  # empty: SSO-only, no password login
    disabled: bool = False
    created_at: datetime


class RoleRow(SQLModel, table=True):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role", "brand"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str
    brand: str = Field(description="Brand kit id, or '*' for every brand.")


class SessionRow(SQLModel, table=True):
    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    csrf_token: str
    via: str = "password"
    created_at: datetime
    expires_at: datetime = Field(index=True)


class ApiTokenRow(SQLModel, table=True):
    __tablename__ = "api_token"

    token_hash: str = Field(primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    label: str = ""
    created_at: datetime


class LoginAttemptRow(SQLModel, table=True):
    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True)
    client: str = Field(index=True)
    ok: bool
    at: datetime = Field(index=True)


class BriefRow(SQLModel, table=True):
    """A brief submitted through the web app or the API, and the run it started."""

    __tablename__ = "brief"

    id: int | None = Field(default=None, primary_key=True)
    brief_id: str = Field(unique=True)
    brand: str = Field(index=True)
    campaign: str
    title: str
    submitted_by: str = Field(index=True)
    brief_json: str
    flow_run_id: str = ""
    submitted_at: datetime = Field(index=True)

    def brief(self) -> Brief:
        return Brief.model_validate_json(self.brief_json)


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class User:
    """A signed-in user and their grants, as the app sees them."""

    id: int
    email: str
    grants: frozenset[tuple[Role, str]]

    def has(self, role: Role, brand: str) -> bool:
        return (role, brand) in self.grants or (role, ANY_BRAND) in self.grants

    def may_submit(self, brand: str) -> bool:
        return self.has(Role.SUBMITTER, brand) or self.has(Role.ADMIN, brand)

    def may_see(self, brand: str) -> bool:
        return any(self.has(r, brand) for r in Role)

    def visible_brands(self, brands: Iterable[str]) -> list[str]:
        return [b for b in brands if self.may_see(b)]

    def submit_brands(self, brands: Iterable[str]) -> list[str]:
        return [b for b in brands if self.may_submit(b)]


def login_throttled(failures: int, limit: int) -> bool:
    """Refuse further tries once ``limit`` failures happened inside the window."""
    return failures >= limit


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"password: at least {MIN_PASSWORD} characters (got {len(password)})"
    return None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def now() -> datetime:
    return datetime.now(UTC)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


# --------------------------------------------------------------------------- users


def add_user(
    session: Session,
    email: str,
    *,
    password: str | None,
    grants: Sequence[tuple[Role, str]] = (),
) -> User:
    """Create a user, or add grants (and set the password when given) to an existing one."""
    try:
        email = _email(email)
    except ValueError as exc:
        raise InputError("user", [f"email: {exc}"]) from None
    if password is not None and (problem := password_problem(password)):
        raise InputError("user", [problem])
    row = session.exec(select(UserRow).where(UserRow.email == email)).first()
    if row is None:
        row = UserRow(email=email, created_at=now())
    if password is not None:
        row.password_hash = _hasher.hash(password)
    session.add(row)
    session.flush()
    assert row.id is not None
    for role, brand in grants:
        exists = session.exec(
            select(RoleRow).where(
                RoleRow.user_id == row.id, RoleRow.role == role.value, RoleRow.brand == brand
            )
        ).first()
        if exists is None:
            session.add(RoleRow(user_id=row.id, role=role.value, brand=brand))
    session.commit()
    user = user_by_id(session, row.id)
    assert user is not None
    return user


def user_by_id(session: Session, user_id: int) -> User | None:
    row = session.get(UserRow, user_id)
    if row is None or row.disabled or row.id is None:
        return None
    roles = session.exec(select(RoleRow).where(RoleRow.user_id == row.id)).all()
    return User(row.id, row.email, frozenset((Role(r.role), r.brand) for r in roles))


def user_by_email(session: Session, email: str) -> User | None:
    row = session.exec(select(UserRow).where(UserRow.email == email.strip().lower())).first()
    return None if row is None or row.id is None else user_by_id(session, row.id)


def list_users(session: Session) -> list[User]:
    rows = session.exec(select(UserRow).order_by(col(UserRow.email))).all()
    return [u for r in rows if r.id is not None and (u := user_by_id(session, r.id))]


def check_password(session: Session, email: str, password: str) -> User | None:
    """The user if ``password`` is theirs; None otherwise (same work either way)."""
    row = session.exec(select(UserRow).where(UserRow.email == email.strip().lower())).first()
    stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.id is None or not row.password_hash:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
        session.add(row)
        session.commit()
    return user_by_id(session, row.id)


def record_login(session: Session, email: str, client: str, ok: bool) -> None:
    session.add(LoginAttemptRow(email=email.strip().lower()[:320], client=client, ok=ok, at=now()))
    session.commit()


def recent_failures(session: Session, email: str, client: str, window: timedelta) -> int:
    """Failed logins inside ``window`` for this email or from this client, whichever is more."""
    since = now() - window
    failed = select(LoginAttemptRow).where(
        LoginAttemptRow.at >= since,
        LoginAttemptRow.ok == False,  # noqa: E712
    )
    by_email = session.exec(failed.where(LoginAttemptRow.email == email.strip().lower())).all()
    by_client = session.exec(failed.where(LoginAttemptRow.client == client)).all()
    return max(len(by_email), len(by_client))


# --------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class WebSession:
    token: str  # goes into the cookie; only its digest is stored
    csrf_token: str
    user: User


def start_session(session: Session, user: User, lifetime: timedelta, via: str) -> WebSession:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    at = now()
    session.add(
        SessionRow(
            token_hash=token_digest(token),
            user_id=user.id,
            csrf_token=csrf,
            via=via,
            created_at=at,
            expires_at=at + lifetime,
        )
    )
    session.commit()
    return WebSession(token, csrf, user)


def resume_session(session: Session, token: str) -> WebSession | None:
    row = session.get(SessionRow, token_digest(token))
    if row is None:
        return None
    if _utc(row.expires_at) <= now():
        session.delete(row)
        session.commit()
        return None
    user = user_by_id(session, row.user_id)
    return None if user is None else WebSession(token, row.csrf_token, user)


def end_session(session: Session, token: str) -> None:
    row = session.get(SessionRow, token_digest(token))
    if row is not None:
        session.delete(row)
        session.commit()


def new_api_token(session: Session, user: User, label: str = "") -> str:
    """Make an API token for ``user``; the value is shown once and never stored."""
    token = "reel_" + secrets.token_urlsafe(32)
    session.add(
        ApiTokenRow(token_hash=token_digest(token), user_id=user.id, label=label, created_at=now())
    )
    session.commit()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.get(ApiTokenRow, token_digest(token))
    return None if row is None else user_by_id(session, row.user_id)


# --------------------------------------------------------------------------- briefs


def save_brief(session: Session, brief: Brief, flow_run_id: str) -> BriefRow:
    """Record a submitted brief once: the same brief again finds its first row."""
    existing = session.exec(select(BriefRow).where(BriefRow.brief_id == brief.brief_id)).first()
    if existing is not None:
        return existing
    row = BriefRow(
        brief_id=brief.brief_id,
        brand=brief.brand,
        campaign=brief.campaign,
        title=brief.title,
        submitted_by=brief.submitted_by,
        brief_json=brief.model_dump_json(),
        flow_run_id=flow_run_id,
        submitted_at=now(),
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def brief_row(session: Session, brief_id: str) -> BriefRow | None:
    return session.exec(select(BriefRow).where(BriefRow.brief_id == brief_id)).first()


def brief_rows(
    session: Session,
    *,
    brands: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[BriefRow]:
    """Briefs of ``brands``, newest first, submitted inside [since, until)."""
    stmt = select(BriefRow).where(col(BriefRow.brand).in_(list(brands)))
    if since is not None:
        stmt = stmt.where(BriefRow.submitted_at >= since)
    if until is not None:
        stmt = stmt.where(BriefRow.submitted_at < until)
    stmt = stmt.order_by(col(BriefRow.submitted_at).desc(), col(BriefRow.id).desc()).limit(limit)
    return list(session.exec(stmt))
