"""Account rules without a database: roles, the last owner, scopes, limits, tokens."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from services.accounts import domain, tokens
from services.accounts.config import Limit
from shared.auth import Principal, decode_token
from shared.errors import Problem, problem_type


def slug_of(excinfo: pytest.ExceptionInfo[Problem]) -> str:
    return str(excinfo.value.type_).rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("actor", "own", "current", "new", "owners", "slug"),
    [
        ("member", False, "member", "admin", 1, "forbidden"),
        ("member", True, "member", "admin", 1, "forbidden"),
        ("admin", False, "owner", "member", 2, "owner-only"),
        ("admin", False, "member", "owner", 1, "owner-only"),
        ("admin", False, "owner", None, 2, "owner-only"),
        ("owner", True, "owner", "admin", 1, "last-owner"),
        ("owner", True, "owner", None, 1, "last-owner"),
        ("owner", False, "member", "boss", 1, "invalid-field"),
    ],
)
def test_refused_membership_changes(
    actor: str, own: bool, current: str, new: str | None, owners: int, slug: str
) -> None:
    with pytest.raises(Problem) as excinfo:
        domain.check_membership_change(actor, own=own, current=current, new=new, owners=owners)
    assert slug_of(excinfo) == slug


@pytest.mark.parametrize(
    ("actor", "own", "current", "new", "owners"),
    [
        ("member", True, "member", None, 1),  # anyone may leave
        ("admin", True, "admin", "member", 1),  # or step down
        ("admin", False, "member", "admin", 1),
        ("admin", False, "member", None, 1),
        ("owner", False, "member", "owner", 1),
        ("owner", True, "owner", "member", 2),  # another owner remains
        ("owner", False, "owner", None, 2),
    ],
)
def test_allowed_membership_changes(
    actor: str, own: bool, current: str, new: str | None, owners: int
) -> None:
    domain.check_membership_change(actor, own=own, current=current, new=new, owners=owners)


def test_invitations_follow_the_same_grants() -> None:
    domain.check_invitation("admin", "admin")
    domain.check_invitation("owner", "owner")
    for actor, role in [("member", "member"), ("admin", "owner")]:
        with pytest.raises(Problem):
            domain.check_invitation(actor, role)


def test_renewing_an_owner_invitation_is_for_owners() -> None:
    domain.check_invitation("admin", "admin", pending="member")
    domain.check_invitation("owner", "member", pending="owner")
    with pytest.raises(Problem) as refused:
        domain.check_invitation("admin", "admin", pending="owner")
    assert refused.value.type_ == problem_type("owner-only")


def test_scopes_are_known_sorted_and_unique() -> None:
    assert domain.check_scopes(["tenant:write", "tenant:read", "tenant:read"]) == (
        "tenant:read",
        "tenant:write",
    )
    for bad in ([], ["tenant:read", "admin"], ["*"]):
        with pytest.raises(Problem):
            domain.check_scopes(bad)


def test_principal_scopes_bind_api_keys_only() -> None:
    person = Principal(uuid4(), uuid4(), "member", None)
    key = Principal(uuid4(), uuid4(), None, None, ("tenant:read",), via_api_key=True)
    assert person.allows("billing:read")
    assert key.allows("tenant:read") and not key.allows("tenant:write")


@pytest.mark.parametrize("text", ["5/60", "1/1", "10"])
def test_limits_parse(text: str) -> None:
    limit = Limit.parse(text)
    assert limit.count >= 1 and limit.seconds >= 1


@pytest.mark.parametrize("text", ["0/60", "5/0", "five/60", ""])
def test_bad_limits_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Limit.parse(text)


def test_api_keys_name_their_tenant_and_are_stored_as_digests() -> None:
    tenant = uuid4()
    key = tokens.new_api_key(tenant)
    assert tokens.api_key_tenant(key) == tenant
    assert tokens.same_digest(tokens.digest(key), key)
    assert not tokens.same_digest(tokens.digest(key), key + "x")
    for bad in ("", "ak_", "ak_nothex_secret", f"rt_{tenant.hex}_secret", f"ak_{tenant.hex}_"):
        assert tokens.api_key_tenant(bad) is None


def test_link_tokens_cannot_pass_for_access_tokens(tmp_path: Path) -> None:
    signer = tokens.Signer.load(tmp_path)
    link, _ = signer.sign({"sub": str(uuid4())}, tokens.RESET_AUDIENCE, timedelta(minutes=5))
    with pytest.raises(Problem):
        decode_token(link, signer.public_key)
    access, _ = signer.access_token(uuid4(), None, None, None)
    with pytest.raises(Problem) as excinfo:
        signer.read_link(access, tokens.RESET_AUDIENCE)
    assert slug_of(excinfo) == "invalid-link"
    key_token, _ = signer.access_token(uuid4(), uuid4(), None, None, scopes=("tenant:read",))
    principal = decode_token(key_token, signer.public_key)
    assert principal.via_api_key and principal.scopes == ("tenant:read",)
