"""The core never imports the NISIRA package: without it (DIALECTS empty) the core works the same."""

import subprocess
import sys
import textwrap

from openregister import create_app
from openregister.extensions import db

from ..conftest import API

IMPORT_THE_CORE = textwrap.dedent("""
    import sys
    from pathlib import Path
    import openregister
    root = Path(openregister.__file__).parent
    modules = [".".join(("openregister", *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
               for path in root.rglob("*.py")]
    core = [name for name in modules if not name.startswith("openregister.nisira")]
    for name in core:
        __import__(name)
    assert len(core) > 30, core
    assert "openregister.nisira" not in sys.modules, "imported by the core"
    app = openregister.create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                                   "JWT_SECRET": "x" * 64, "DIALECTS": ""})
    assert "openregister.nisira" not in sys.modules, "imported by create_app without DIALECTS"
    openregister.create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "JWT_SECRET": "x" * 64})
    assert "openregister.nisira" in sys.modules, "not served by default"
    print("ok")
""")


def test_no_core_module_imports_the_nisira_package(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_THE_CORE], capture_output=True, text=True, timeout=120,
        env={"OPENREGISTER_INSTANCE_PATH": str(tmp_path), "PATH": ""},
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


def test_without_the_dialect_the_core_answers_and_api_paths_are_unknown(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'core.sqlite'}",
                      "JWT_SECRET": "x" * 64, "DIALECTS": []})
    with app.app_context():
        db.create_all()
        client = app.test_client()
        health = client.get(f"{API}/health")
        nisira = client.get("/api/health/")
        document = client.get(f"{API}/openapi.json").get_json()
        db.engine.dispose()
    assert (health.status_code, health.get_json()["status"]) == (200, "ok")
    assert (nisira.status_code, nisira.get_json()) == (404, {
        "error": "Not Found",
        "message": "The requested URL was not found on the server. If you entered the URL manually please check your "
                   "spelling and try again.",
    })
    assert not [path for path in document["paths"] if path.startswith("/api/")]
    assert "nisira" not in [tag["name"] for tag in document["tags"]]
