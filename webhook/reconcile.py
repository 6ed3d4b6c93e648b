"""The SIP backend's reconciler: a call the back office thinks live, whose dialog Kamailio no longer holds, ended.

Kamailio reports a call's end through its report queue; a report that never comes (the proxy restarted, both
phones vanished without a BYE) would leave the call connected and its channel held for hours, until the
lease expired. Every LEASE_RECONCILE_SECONDS this compares the live calls with Kamailio's live dialogs
(JSON-RPC `dlg.list`) and ends, as lost, each call that has been up for SIP_DIALOG_GRACE_SECONDS without a
dialog: its channel freed, its operator released, the repair recorded on its lease. Kamailio unreachable:
nothing is ended (an unknown is not a "gone").
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from acd.actions import end_lost_call
from acd.choices import CallState
from acd.models import Call
from budget import actions as budget
from budget.models import ChannelLease
from core.clock import now
from telephony.backends.sip import rpc, translate

DIALOG_GONE = "Kamailio holds no dialog for the call (its end was never reported)"
BATCH = 1000


def reconcile_dialogs() -> int:
    """End the live calls without a dialog; returns how many. Raises rpc.RpcError when Kamailio is down."""
    live = {translate.call_ref(call_id) for call_id in rpc.live_call_ids()}
    at = now()
    cutoff = at - dt.timedelta(seconds=settings.SIP_DIALOG_GRACE_SECONDS)
    candidates = (Call.objects.exclude(state=CallState.ENDED)
                  .filter(arrived_at__lt=cutoff, account__is_simulation=False)
                  .order_by("pk").values_list("pk", "engine_ref")[:BATCH])
    repaired = 0
    for call_id, ref in candidates:
        if ref in live:
            continue
        with transaction.atomic():
            lease_id = (ChannelLease.objects.filter(call_id=call_id, released_at__isnull=True)
                        .values_list("pk", flat=True).first())
            if end_lost_call(call_id):
                if lease_id is not None:
                    budget.record_repair(lease_id, DIALOG_GONE, at)
                repaired += 1
    return repaired
