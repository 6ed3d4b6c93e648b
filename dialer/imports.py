"""Lead import: CSV or XLSX (through tablib, as django-import-export reads them) or rows from the API, into a
lead list, with a report of every refused row and why. Nothing is dropped silently: each input row is either
a lead or a line of the report (bad number, duplicate, on the do-not-call list, unknown time zone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from accounts.models import validate_timezone
from core.validators import normalize_e164

from . import compliance
from .choices import LeadState, RefusalReason
from .models import DoNotCall, Lead, LeadList

MAX_ROWS = 100_000
PHONE_COLUMNS = ("phone", "number", "telefono", "numero")
TIMEZONE_COLUMNS = ("timezone", "time_zone", "fuso_orario")


@dataclass
class ImportReport:
    total: int = 0
    imported: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, row: int, phone: str, reason: str, message: str) -> None:
        self.refused.append({"row": row, "phone": phone, "reason": reason, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "imported": self.imported, "refused_count": len(self.refused),
                "refused": self.refused}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (format, no phone column, too many rows)."""


def read_file(content: bytes, filename: str) -> list[dict[str, Any]]:
    """Rows of a CSV or XLSX file as dicts keyed by the lower-cased header."""
    name = filename.lower()
    try:
        if name.endswith(".xlsx"):
            data = tablib.Dataset().load(content, format="xlsx")
        elif name.endswith(".csv"):
            data = tablib.Dataset().load(content.decode("utf-8-sig"), format="csv")
        else:
            raise ImportFileError(_("Upload a .csv or .xlsx file."))
    except (UnicodeDecodeError, tablib.InvalidDimensions, tablib.UnsupportedFormat, ValueError) as exc:
        if isinstance(exc, ImportFileError):
            raise
        raise ImportFileError(_("The file cannot be read: %(error)s") % {"error": exc}) from exc
    headers = [str(h or "").strip().lower() for h in (data.headers or [])]
    return [dict(zip(headers, ["" if v is None else str(v).strip() for v in row], strict=False)) for row in data]


def import_rows(lead_list: LeadList, rows: list[dict[str, Any]], *, fallback_timezone: str) -> ImportReport:
    """Validate every row, then insert the good ones in one transaction (all or nothing for the good rows:
    a failure rolls the whole import back, so a list is never half-imported)."""
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("At most %(n)d rows per import.") % {"n": MAX_ROWS})
    if rows and not any(c in rows[0] for c in PHONE_COLUMNS):
        raise ImportFileError(_("No phone column (name one of: %(cols)s).") % {"cols": ", ".join(PHONE_COLUMNS)})
    report = ImportReport(total=len(rows))
    with transaction.atomic():
        existing = set(Lead.objects.filter(lead_list=lead_list).values_list("phone", flat=True))
        blocked = set(DoNotCall.objects.filter(account_id=lead_list.account_id).values_list("phone", flat=True))
        custom = list(lead_list.custom_fields or [])
        leads: list[Lead] = []
        for i, row in enumerate(rows, start=2):  # row 1 is the header
            raw = next((str(row[c]) for c in PHONE_COLUMNS if row.get(c)), "")
            try:
                phone = normalize_e164(raw)
            except ValidationError as exc:
                report.refuse(i, raw, RefusalReason.BAD_NUMBER, exc.messages[0])
                continue
            if phone in existing:
                report.refuse(i, phone, RefusalReason.DUPLICATE, _("This number is already in the list."))
                continue
            if phone in blocked:
                report.refuse(i, phone, RefusalReason.DO_NOT_CALL, _("This number is on the do-not-call list."))
                continue
            tz = next((str(row[c]) for c in TIMEZONE_COLUMNS if row.get(c)), "")
            if tz:
                try:
                    validate_timezone(tz)
                except ValidationError as exc:
                    report.refuse(i, phone, RefusalReason.BAD_TIMEZONE, exc.messages[0])
                    continue
            else:
                tz = compliance.number_timezone(phone, fallback_timezone)
            existing.add(phone)
            fields = {k: row.get(k, "") for k in custom} if custom else {
                k: v for k, v in row.items() if k not in PHONE_COLUMNS + TIMEZONE_COLUMNS and k}
            leads.append(Lead(account_id=lead_list.account_id, lead_list=lead_list, phone=phone, timezone=tz,
                              fields={k: str(v)[:500] for k, v in list(fields.items())[:50]},
                              state=LeadState.NEW))
        Lead.objects.bulk_create(leads, batch_size=2000)
        report.imported = len(leads)
    return report


def progress(lead_list: LeadList) -> dict[str, int]:
    """Done / remaining of a list (remaining: still to be called or waiting for a retry)."""
    counts = dict.fromkeys(LeadState.values, 0)
    for state, n in Lead.objects.filter(lead_list=lead_list).order_by().values("state").annotate(
            n=Count("id")).values_list("state", "n"):
        counts[state] = n
    total = sum(counts.values())
    remaining = counts[LeadState.NEW] + counts[LeadState.RETRY] + counts[LeadState.DIALING]
    return {"total": total, "remaining": remaining, "done": total - remaining, **counts}
