"""Statistics per menu option: how often each digit was chosen, and how often callers chose nothing valid.

Counted off `MenuChoice`, the menus' queue log (one row per key press or silence), over a bounded window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count

from .choices import ChoiceResult
from .models import Menu, MenuChoice


def option_counts(menu: Menu, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    rows = (MenuChoice.objects.filter(account_id=menu.account_id, menu=menu, at__gte=start, at__lte=end)
            .values("result", "option_id").annotate(n=Count("id")))
    per_option: dict[int, int] = {}
    per_result = dict.fromkeys(ChoiceResult.values, 0)
    for row in rows:
        per_result[row["result"]] += row["n"]
        if row["option_id"] is not None:
            per_option[row["option_id"]] = per_option.get(row["option_id"], 0) + row["n"]
    options = [{"option": o.pk, "digit": o.digit, "label": o.label, "action": o.action,
                "count": per_option.get(o.pk, 0)} for o in menu.options.order_by("digit")]
    return {"menu": menu.pk, "name": menu.name, "from": start, "to": end, "options": options,
            "invalid": per_result[ChoiceResult.INVALID], "timeout": per_result[ChoiceResult.TIMEOUT],
            "fallback": per_result[ChoiceResult.FALLBACK]}
