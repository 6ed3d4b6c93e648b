"""Lead import: CSV or XLSX (through tablib, as django-import-export reads them) or rows from the API, into a
lead list, with a report of every refused row and why. Nothing is dropped silently: each input row is either
a lead or a line of the report (bad number, duplicate, on the do-not-call list, unknown time zone)."""

from __future__ import annotations

from collections.abc import Callable
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
PROGRESS_EVERY = 1_000  # rows checked between two notes of a background import's progress


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


def check_file_shape(rows: list[dict[str, Any]]) -> None:
    """Refuse a file as a whole: too many rows, or no phone column."""
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("At most %(n)d rows per import.") % {"n": MAX_ROWS})
    if rows and not any(c in rows[0] for c in PHONE_COLUMNS):
        raise ImportFileError(_("No phone column (name one of: %(cols)s).") % {"cols": ", ".join(PHONE_COLUMNS)})


def check_rows(lead_list: LeadList, rows: list[dict[str, Any]], *, fallback_timezone: str,
               on_progress: Callable[[int], None] | None = None) -> tuple[ImportReport, list[Lead]]:
    """Every row either becomes a lead (not saved yet) or a line of the report. `on_progress(n)` is called
    every PROGRESS_EVERY rows with the number checked so far (a background import shows it as its bar). The
    file's shape is the caller's to check first (`check_file_shape`)."""
    report = ImportReport(total=len(rows))
    existing = set(Lead.objects.filter(lead_list=lead_list).values_list("phone", flat=True))
    blocked = set(DoNotCall.objects.filter(account_id=lead_list.account_id).values_list("phone", flat=True))
    custom = list(lead_list.custom_fields or [])
    leads: list[Lead] = []
    for n, row in enumerate(rows, start=1):
        if on_progress is not None and n % PROGRESS_EVERY == 0:
            on_progress(n)
        i = n + 1  # row 1 is the header
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
        lead = Lead(account_id=lead_list.account_id, lead_list=lead_list, phone=phone, timezone=tz,
                    fields={k: str(v)[:500] for k, v in list(fields.items())[:50]}, state=LeadState.NEW)
        lead.import_row = i
        leads.append(lead)
    return report, leads


def save_leads(lead_list: LeadList, leads: list[Lead], report: ImportReport) -> None:
    """Insert the checked leads, in the caller's transaction. The list is locked first, so two imports into
    one list save one after the other; a number another import saved since these rows were checked is
    refused as a duplicate, not an error that would undo the whole import."""
    LeadList.objects.select_for_update().filter(pk=lead_list.pk).exists()
    saved = set(Lead.objects.filter(lead_list=lead_list).values_list("phone", flat=True))
    fresh = []
    for lead in leads:
        if lead.phone in saved:
            report.refuse(lead.import_row, lead.phone, RefusalReason.DUPLICATE,
                          _("This number is already in the list."))
        else:
            fresh.append(lead)
    report.refused.sort(key=lambda refusal: refusal["row"])
    Lead.objects.bulk_create(fresh, batch_size=2000)
    report.imported = len(fresh)


def import_rows(lead_list: LeadList, rows: list[dict[str, Any]], *, fallback_timezone: str) -> ImportReport:
    """Check every row, then insert the good ones in one transaction (all or nothing for the good rows:
    a failure rolls the whole import back, so a list is never half-imported). The API's bulk import; the
    admin's file imports run in the background (dialer/lead_imports.py)."""
    check_file_shape(rows)
    with transaction.atomic():
        report, leads = check_rows(lead_list, rows, fallback_timezone=fallback_timezone)
        save_leads(lead_list, leads, report)
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
