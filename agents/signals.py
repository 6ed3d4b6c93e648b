"""Presence's signals, sent after the commit of the change they tell.

`operator_available`: presence (login, resume) made an operator available; the ACD offers them a waiting call.
`reservation_lost`: an operator held back from calls (a reservation: `backoff_until` ahead, e.g. reading a
lead in preview) stopped being available (logged off, paused by themselves, a supervisor or the system, or
rung): whoever held them lets go of what they held them for (the dialer puts the previewed lead back). Sent
only for an operator held back at the time, so presence changes of the others cost nothing more.
"""

from django.dispatch import Signal

operator_available = Signal()  # kwargs: operator_id, account_id
reservation_lost = Signal()  # kwargs: operator_id, account_id, state (the one they went to)
