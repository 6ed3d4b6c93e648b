"""The test run's settings: production's (`callcenter.settings`), on a development machine's footing.

DEBUG is off unless asked and SECRET_KEY is then required, so the tests ask: DEBUG=true (the servers and
workers the tests start inherit it and serve static files as under `make run`; pytest-django still runs each
test with DEBUG off) and a throw-away key. Values already in the environment win: the deploy-check test runs
`manage.py check --deploy` with production's values instead (tests/test_deploy.py).
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-only-not-secret-" + "t" * 40)
# The server's statement and lock timeouts (core/dbbounds.py) are off unless a test asks for them: the test run
# creates and drops databases and holds locks on purpose, on a shared machine where either may take longer than
# a request should. tests/faults/test_postgres_frozen.py starts its servers with short ones and proves them.
os.environ.setdefault("DB_STATEMENT_TIMEOUT", "0")
os.environ.setdefault("DB_LOCK_TIMEOUT", "0")
os.environ.setdefault("DB_CLIENT_TIMEOUT", "0")  # the client's bound likewise (the fault tests set theirs)

from callcenter.settings import *  # noqa: F403
