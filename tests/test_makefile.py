"""`make run` hands out admin/admin only on loopback; elsewhere it wants a password of one's own."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def check(bind, *arguments):
    return subprocess.run(["make", "-s", "check-admin-password", *arguments], cwd=PROJECT, capture_output=True,
                          text=True, env={**os.environ, "OPENREGISTER_BIND": bind}, timeout=30)


@pytest.mark.parametrize("bind", ["127.0.0.1:8080", "127.0.1.1:9000", "localhost:8080", "localhost", "[::1]:8080"])
def test_loopback_binds_keep_the_default_password(bind):
    assert check(bind).returncode == 0


@pytest.mark.parametrize("bind", ["0.0.0.0:8080", "192.0.2.10:80", "[::]:8080", "example.org:8080"])
def test_other_binds_refuse_the_default_password_and_say_how_to_set_one(bind):
    result = check(bind)
    assert result.returncode != 0
    assert f"Refusing to serve on {bind}" in result.stdout
    assert "ADMIN_PASSWORD=" in result.stdout


def test_other_binds_accept_a_password_of_ones_own():
    assert check("0.0.0.0:8080", "ADMIN_PASSWORD=a long password").returncode == 0
