"""The core never imports the NISIRA package: without it (DIALECTS empty) the core works the same.

Both tests run in a process of their own: the modules imported, and flask-smorest's one Api (whose
document follows the app built last), must not be those of the other tests.
"""

import json
import subprocess
import sys
import textwrap

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

SERVE_THE_CORE_ALONE = textwrap.dedent(f"""
    import json
    from openregister import create_app
    from openregister.extensions import db
    app = create_app({{"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "JWT_SECRET": "x" * 64,
                      "DIALECTS": []}})
    with app.app_context():
        db.create_all()
        client = app.test_client()
        answers = [client.get(path) for path in ("{API}/health", "/api/health/", "{API}/openapi.json")]
    print(json.dumps([[answer.status_code, answer.get_json()] for answer in answers]))
""")


def run(script: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env={"OPENREGISTER_INSTANCE_PATH": str(tmp_path), "PATH": ""},
    )


def test_no_core_module_imports_the_nisira_package(tmp_path):
    result = run(IMPORT_THE_CORE, tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


def test_without_the_dialect_the_core_answers_and_api_paths_are_unknown(tmp_path):
    result = run(SERVE_THE_CORE_ALONE, tmp_path)
    assert result.returncode == 0, result.stderr
    (health_status, health), (nisira_status, nisira), (_, document) = json.loads(result.stdout)
    assert (health_status, health["status"]) == (200, "ok")
    assert (nisira_status, nisira) == (404, {
        "error": "Not Found",
        "message": "The requested URL was not found on the server. If you entered the URL manually please check your "
                   "spelling and try again.",
    })
    assert not [path for path in document["paths"] if path.startswith("/api/")]
    assert "nisira" not in [tag["name"] for tag in document["tags"]]
    assert f"{API}/conversations" in document["paths"]
