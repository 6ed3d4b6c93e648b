"""Account-level actions: API tokens and supervisors."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.clock import now

from .choices import TokenAccess
from .models import Account, AccountMember, ApiToken, hash_token

TOKEN_PREFIX = "cnt_"
SUPERVISORS_GROUP = "Supervisors"


def create_api_token(account: Account, name: str,
                     access: TokenAccess = TokenAccess.READ_WRITE) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw key, which is shown once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(account=account, name=name, prefix=raw[:12], key_hash=hash_token(raw),
                                    access=access)
    return token, raw


@transaction.atomic
def revoke_api_token(token: ApiToken) -> None:
    """Revoke once (a second revocation keeps the first time); a save, so the audit trail records it."""
    locked = ApiToken.objects.select_for_update().filter(pk=token.pk, revoked_at__isnull=True).first()
    if locked is not None:
        locked.revoked_at = now()
        locked.save(update_fields=["revoked_at"])


@transaction.atomic
def create_supervisor(account: Account, username: str, password: str, email: str = "") -> AccountMember:
    """A staff user scoped to one account, with the permissions to run its call centers."""
    user = get_user_model().objects.create_user(username=username, password=password, email=email,
                                                is_staff=True)
    return AccountMember.objects.create(user=user, account=account)  # the receiver grants the rights


def grant_supervisor(user) -> None:
    """Whoever made the user a supervisor (admin inline, API, command, demo), they can now run the account:
    staff (to enter the admin) and in the Supervisors group (the permissions of the six steps)."""
    if not user.is_staff:
        type(user).objects.filter(pk=user.pk).update(is_staff=True)
        user.is_staff = True
    user.groups.add(ensure_supervisor_group())


SUPERVISOR_MODELS = {
    "routing": ["phonenumber", "service", "servicemembership", "prompt", "callerroute", "openinghours",
                "holiday"],
    "acd": ["call", "callevent", "offer"],
    "billing": ["invoice", "invoiceline"],
    "budget": ["limitrefusal", "channellease"],
    "agents": ["operator", "pausereason"],
    "accounts": ["apitoken"],
    "integrations": ["subscription", "delivery", "deliveryattempt"],
    "dialer": ["campaign", "leadlist", "lead", "donotcall", "attempt", "disposition"],
    "ivr": ["menu", "menuoption", "menunumber"],
}


def ensure_supervisor_group():
    """The permissions a supervisor needs for the six steps (objects are scoped to their account)."""
    group, _created = Group.objects.get_or_create(name=SUPERVISORS_GROUP)
    perms = Permission.objects.filter(content_type__app_label__in=SUPERVISOR_MODELS).select_related(
        "content_type")
    wanted = [p for p in perms if p.content_type.model in SUPERVISOR_MODELS[p.content_type.app_label]]
    wanted += list(Permission.objects.filter(content_type__app_label__in=["accounts", "agents"],
                                             codename__in=["view_account", "change_account",
                                                           "view_operatorevent"]))
    group.permissions.set(wanted)
    return group


# --- reseller provisioning: a white-label reseller's client accounts -------------------------------------

def check_within_reseller(reseller: Account, client: Account) -> None:
    """A client's limit fits inside its reseller's (the budget counts the client's calls on both)."""
    if client.channel_limit > reseller.channel_limit:
        raise ValidationError({"extra_channels": _(
            "A client account can have at most %(n)d concurrent calls (the reseller's own limit).")
            % {"n": reseller.channel_limit}})


@transaction.atomic
def save_client_account(reseller: Account, client: Account) -> Account:
    """Create or change a client account under `reseller`, validated like the admin's form and within the
    reseller's limit."""
    client.parent = reseller
    client.full_clean()
    check_within_reseller(reseller, client)
    client.save()
    return client
