from acd.tests.conftest import account, switch  # noqa: F401  (the ACD's fixtures: an account, an engine)
