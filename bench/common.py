"""Shared benchmark plumbing: a fresh PostgreSQL database, Django set up on it, and the result file.

Benchmarks are not tests: each measures against its baseline in the same run (this machine is noisy)
and writes bench/results/<name>.json as {"name", "figures", "targets", "met"}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def bench_database_url(name: str) -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/centralino")
    parts = urlparse(base)
    # Named after the configured database, so benchmarks run on several databases of one server at once
    # (one per developer or worktree) never drop each other's.
    return urlunparse(parts._replace(path=f"/{parts.path.lstrip('/') or 'centralino'}_bench_{name}"))


def fresh_django(name: str) -> str:
    """Recreate the benchmark's own database, migrate it, and set Django up on it. Returns its URL."""
    url = bench_database_url(name)
    db = urlparse(url).path.lstrip("/")
    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.setdefault("FAST_PASSWORD_HASHER", "1")
    os.environ.setdefault("DEBUG", "false")  # production settings: no query log
    os.environ["DJANGO_SETTINGS_MODULE"] = "callcenter.settings"
    sys.path.insert(0, str(ROOT))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=os.environ)
    import django

    django.setup()
    return url


def write_result(name: str, figures: dict, targets: dict, met: bool, summary: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {"name": name, "figures": figures, "targets": targets, "met": bool(met)}
    (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"[bench {name}] {'MET' if met else 'NOT MET'}: {summary}")
