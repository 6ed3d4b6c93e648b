"""Sent after commit when presence (login, resume) makes an operator available; the ACD listens."""

from django.dispatch import Signal

operator_available = Signal()  # kwargs: operator_id, account_id
