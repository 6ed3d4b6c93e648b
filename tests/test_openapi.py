import subprocess
import sys

from django.conf import settings


def test_schema_generates_without_warnings_and_matches_the_committed_one(tmp_path):
    out = tmp_path / "schema.yaml"
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(out)],
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    for path in ("/api/v1/numbers/", "/api/v1/operators/{id}/pause/", "/api/v1/services/", "/api/v1/prompts/",
                 "/api/v1/caller-routes/"):
        assert path in text
    assert "password" in text  # documented as write-only input
    committed = settings.BASE_DIR / "docs" / "openapi.yaml"
    assert committed.exists() and committed.read_text() == text, (
        "docs/openapi.yaml differs from the schema the code serves: run `make schema` and commit the result "
        "(the diff is the API change reviewers see).")
