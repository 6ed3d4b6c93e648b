"""Kamailio's JSON-RPC (jsonrpcs over xhttp, at SIP_RPC_ADDR:SIP_RPC_PORT/RPC): end a call, list live dialogs."""

from __future__ import annotations

import http.client
import json
from typing import Any

from django.conf import settings


class RpcError(OSError):
    """Kamailio did not answer, or answered with an error."""


def call(method: str, *params: Any) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}).encode()
    conn = http.client.HTTPConnection(settings.SIP_RPC_ADDR, settings.SIP_RPC_PORT, timeout=settings.SIP_RPC_TIMEOUT)
    try:
        conn.request("POST", "/RPC", body, {"Content-Type": "application/json"})
        answer = conn.getresponse()
        doc = json.loads(answer.read() or b"{}")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise RpcError(f"kamailio RPC {method}: {exc}") from exc
    finally:
        conn.close()
    if "error" in doc:
        raise RpcError(f"kamailio RPC {method}: {doc['error']}")
    return doc.get("result")


def live_call_ids() -> set[str]:
    """The Call-IDs of every dialog Kamailio holds (ringing or confirmed)."""
    result = call("dlg.list") or []
    return {d.get("call-id", "") for d in result if isinstance(d, dict)}


def end_call(call_id: str) -> bool:
    """End a live dialog (BYE to both sides). False when Kamailio holds no dialog with that Call-ID."""
    for dialog in call("dlg.list") or []:
        if isinstance(dialog, dict) and dialog.get("call-id") == call_id:
            call("dlg.end_dlg", dialog["h_entry"], dialog["h_id"])
            return True
    return False
