"""Issue 9: an engine event's signature is checked without a round trip of its own (telephony/signers.py), and
still a rotated secret or a deactivated account is refused within ENGINE_SIGNER_CACHE_SECONDS, an unknown slug
costs what a bad signature costs, and no flood of slugs grows the memory."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.exceptions import AuthenticationFailed

from core.clock import now
from telephony.api.authentication import SIGNERS, signed_account_id
from telephony.signers import Signer, SignerCache
from telephony.signing import sign
from tests import factories
from tests.api import post_signed

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b'{"type": "no_such_event"}'


def check(slug: str, secret: str, body: bytes = BODY) -> int:
    ts = int(now().timestamp())
    return signed_account_id(slug, str(ts), body, sign(secret, ts, body))


def refusal(slug: str, secret: str) -> tuple[str, int]:
    """The answer and the round trips of a refused check."""
    with CaptureQueriesContext(connection) as queries, pytest.raises(AuthenticationFailed) as refused:
        check(slug, secret)
    return str(refused.value.detail), len(queries)


class Ticks:
    """A clock for the memory alone, moved by hand."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_an_entry_is_served_until_its_bound_from_the_moment_it_was_read():
    ticks = Ticks()
    memory = SignerCache(2.0, 10, clock=ticks)
    memory.put("a", Signer(1, "s", read_at=ticks()))
    ticks.t += 1.999
    assert memory.get("a") == Signer(1, "s", 100.0)
    ticks.t += 0.001
    assert memory.get("a") is None
    assert len(memory) == 0


def test_older_knowledge_never_replaces_fresher():
    memory = SignerCache(2.0, 10, clock=Ticks())
    memory.put("a", Signer(1, "new", read_at=100.5))
    memory.put("a", Signer(1, "old", read_at=100.0))  # a lookup that started earlier and finished later
    assert memory.get("a").secret == "new"


def test_the_memory_keeps_the_most_recently_used_entries_only():
    ticks = Ticks()
    memory = SignerCache(2.0, 3, clock=ticks)
    for slug in "abc":
        memory.put(slug, Signer(1, "s", ticks()))
    memory.get("a")
    memory.put("d", Signer(1, "s", ticks()))
    assert len(memory) == 3
    assert memory.get("b") is None
    assert all(memory.get(slug) for slug in "acd")


def test_zero_seconds_remembers_nothing():
    memory = SignerCache(0, 10)
    memory.put("a", Signer(1, "s", memory.clock()))
    assert memory.get("a") is None


def test_a_good_signature_is_answered_from_memory_after_the_first_lookup():
    account = factories.make_account()
    with CaptureQueriesContext(connection) as first:
        assert check(account.slug, account.webhook_secret) == account.pk
    with CaptureQueriesContext(connection) as second:
        assert check(account.slug, account.webhook_secret) == account.pk
    assert (len(first), len(second)) == (1, 0)


def test_every_refusal_costs_one_lookup_whatever_the_slug():
    """No slug oracle: a remembered account's bad signature, a known account's, an unknown slug's and a
    deactivated account's are answered alike after the same work (both checks and one lookup)."""
    remembered, known, gone = factories.make_account(), factories.make_account(), factories.make_account()
    gone.is_active = False
    gone.save()
    check(remembered.slug, remembered.webhook_secret)
    assert SIGNERS.get(remembered.slug) is not None
    answers = {refusal(remembered.slug, "wrong"), refusal(known.slug, "wrong"), refusal("no-such-account", "wrong"),
               refusal(gone.slug, gone.webhook_secret)}
    assert answers == {("Refused: the signature does not match.", 1)}
    assert check(remembered.slug, remembered.webhook_secret) == remembered.pk  # still remembered, no harm done


def test_a_flood_of_unknown_slugs_remembers_none_of_them():
    account = factories.make_account()
    check(account.slug, account.webhook_secret)
    for i in range(300):
        with pytest.raises(AuthenticationFailed):
            check(f"flood-{i}", "anything")
    assert len(SIGNERS) == 1


def test_an_engine_on_the_rotated_secret_is_answered_at_once_and_the_old_secret_is_then_refused():
    """Rotated by a bare UPDATE (no signal reaches the memory): the engine's first event signed with the new
    secret misses the memory, its lookup replaces the entry, and the old secret stops working there."""
    account = factories.make_account()
    old = account.webhook_secret
    check(account.slug, old)
    type(account).objects.filter(pk=account.pk).update(webhook_secret="rotated-" + old[:20])
    assert check(account.slug, "rotated-" + old[:20]) == account.pk
    assert refusal(account.slug, old) == ("Refused: the signature does not match.", 1)


def test_saving_an_account_here_forgets_at_commit():
    account = factories.make_account()
    check(account.slug, account.webhook_secret)
    with transaction.atomic():
        account.is_active = False
        account.save()
        assert len(SIGNERS) == 1  # not before the commit: a rollback would have changed nothing
    assert len(SIGNERS) == 0
    assert refusal(account.slug, account.webhook_secret)[0] == "Refused: the signature does not match."


def test_inside_a_transaction_the_memory_is_neither_read_nor_filled():
    account = factories.make_account()
    with transaction.atomic():
        type(account).objects.filter(pk=account.pk).update(webhook_secret="uncommitted")
        assert check(account.slug, "uncommitted") == account.pk
        assert len(SIGNERS) == 0
        transaction.set_rollback(True)
    check(account.slug, account.webhook_secret)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        check(account.slug, account.webhook_secret)
    assert len(queries) == 1


def test_the_drf_view_refuses_at_once_an_account_deactivated_while_remembered():
    """The DRF door reads the account after the signature anyway: there the bound is zero."""
    account = factories.make_account()
    check(account.slug, account.webhook_secret)
    type(account).objects.filter(pk=account.pk).update(is_active=False)  # no signal: the memory still holds it
    assert SIGNERS.get(account.slug) is not None
    response = post_signed(account.slug, account.webhook_secret, BODY)
    assert response.status_code == 401, response.content
    assert response.json()["detail"] == "Refused: the signature does not match."
