"""Making platform staff, which only operators can do (from the `alliance staff` command)."""

from __future__ import annotations

from services.accounts import domain, repository
from services.accounts.models import User
from services.accounts.passwords import hash_password
from shared.db import Database
from shared.errors import Problem


async def add_staff(
    db: Database, email: str, role: str, *, name: str | None, password: str | None
) -> tuple[User, bool]:
    """Give `role` to the account at `email`, creating it when `password` is given.

    Returns the person and whether the account was created.
    """
    email = domain.normalize_email(email)
    domain.check_platform_role(role)
    async with db.transaction() as session:
        user = await repository.user_by_email(session, email)
    password_hash = None
    if user is None:
        if not password:
            raise Problem(422, "password-required", "A new account needs a password.")
        domain.check_password(password, email)
        password_hash = await hash_password(password)
    async with db.transaction() as session:
        user = await repository.user_by_email(session, email)
        created = user is None
        if user is None:
            assert password_hash is not None
            user = User(email=email, name=name or email.split("@")[0], password_hash=password_hash)
            session.add(user)
        user.platform_role = role
    return user, created
