"""Users: creation, login, roles and preferences."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from ..domain import prefs as prefs_rules
from ..domain.errors import N_, DomainError, NotFoundError, ValidationError
from ..store.models import AgentPresence, User
from .context import ROLES, Actor, Context

_hasher = PasswordHasher()
#: verified against when the user is unknown, so both paths cost the same
_DUMMY_HASH = _hasher.hash("plateau-timing-equaliser")

ROLE_LABELS = {"agent": N_("Agent / stagiaire"), "supervisor": N_("Superviseur / formateur"), "admin": N_("Administrateur")}


def create_user(ctx: Context, username: str, password: str, display_name: str, role: str = "agent",
                locale: str = "fr") -> User:
    username = (username or "").strip().lower()
    errors = {}
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        errors["username"] = DomainError(N_("L'identifiant ne peut contenir que des lettres, chiffres, points et tirets."), "username")
    if len(password or "") < 8:
        errors["password"] = DomainError(N_("Le mot de passe doit faire au moins 8 caractères."), "password")
    if role not in ROLES:
        errors["role"] = DomainError(N_("Rôle inconnu : %(role)s."), "role", role=role)
    if errors:
        raise ValidationError(errors)
    with ctx.unit() as session:
        if session.scalar(select(User.id).where(User.username == username)):
            raise ValidationError({"username": DomainError(N_("L'identifiant %(username)s existe déjà."), "username", username=username)})
        now = ctx.now()
        user = User(username=username, password_hash=_hasher.hash(password), display_name=display_name.strip() or username,
                    role=role, locale=locale, prefs={}, created_at=now)
        session.add(user)
        session.flush()
        session.add(AgentPresence(user_id=user.id, state="offline", since=now, idle_since=None))
        return user


def authenticate(ctx: Context, username: str, password: str) -> User | None:
    with ctx.read() as session:
        user = session.scalar(select(User).where(User.username == (username or "").strip().lower(), User.active.is_(True)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return None
    return user


def get_user(ctx: Context, user_id: int) -> User:
    with ctx.read() as session:
        user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(N_("Utilisateur introuvable."))
    return user


def actor_for(user: User) -> Actor:
    return Actor(id=user.id, role=user.role, name=user.display_name)


def list_users(ctx: Context, role: str | None = None) -> list[User]:
    with ctx.read() as session:
        query = select(User).where(User.active.is_(True)).order_by(User.display_name)
        if role:
            query = query.where(User.role == role)
        return list(session.scalars(query))


def update_prefs(ctx: Context, actor: Actor, values: dict) -> dict:
    """Change some preferences; shortcuts are checked as a whole set, so a new
    key can't silently collide with one left unchanged."""
    with ctx.unit() as session:
        user = session.get(User, actor.id)
        current = prefs_rules.effective(user.prefs)
        values = dict(values)
        if "shortcuts" in values:
            values["shortcuts"] = {**current["shortcuts"], **{k: v for k, v in values["shortcuts"].items() if v}}
        clean = prefs_rules.validate(values)
        merged = dict(user.prefs or {})
        merged.update(clean)
        user.prefs = merged
    return prefs_rules.effective(merged)


def set_locale(ctx: Context, user_id: int, locale: str) -> None:
    with ctx.unit() as session:
        session.get(User, user_id).locale = locale
