"""``civicflow serve`` answers: started as the console script would, asked, then stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def call(url: str, body: dict[str, Any] | None = None, user: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json", **({"X-User": user} if user else {})}
    request = urllib.request.Request(  # noqa: S310 (a local http URL of our own)
        url, data=data, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def started(*argv: str, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIVICFLOW_", "AUDIT_KEY"))}
    return subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "civicflow", "serve", *argv],
        env={**env, "PYTHONPATH": str(SRC)},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()
        try:
            call(url)
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("civicflow serve did not answer within 30 s")


def stop(server: subprocess.Popen[str]) -> tuple[str, str]:
    server.send_signal(signal.SIGINT)  # what Ctrl-C sends: uvicorn shuts down cleanly
    out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    return out, err


def test_civicflow_serve_answers_and_stops(tmp_path: Path) -> None:
    port, db = free_port(), f"sqlite:///{tmp_path / 'civic.db'}"
    base = f"http://127.0.0.1:{port}"
    roles = ("--office", "office", "--auditor", "audit")
    server = started(
        "--db", db, "--port", str(port), "--actor-header", "X-User", *roles, cwd=tmp_path
    )
    try:
        wait_for(f"{base}/areas", server)
        assert call(f"{base}/areas") == (200, [])
        area = {"area_id": "d", "kind": "district", "name": "D"}
        code, body = call(f"{base}/areas", area)
        assert (code, body["error"]["type"]) == (401, "Unauthorized")  # no proxy set X-User
        assert call(f"{base}/areas", area, "r-1")[0] == 403  # not an office
        assert call(f"{base}/areas", area, "office")[0] == 201
        assert call(f"{base}/verify", user="office")[0] == 403  # not an auditor
        assert call(f"{base}/verify", user="audit")[0] == 200
        code, body = call(f"{base}/nowhere")
        assert (code, body["error"]["type"]) == (404, "NotFound")
    finally:
        out, _ = stop(server)
    assert f"civicflow serves {db} at {base}/ (commands by the actor in X-User)" in out
    assert (tmp_path / "civic.db.keys" / "signing.key").exists()  # protected by default


def test_serve_without_the_actors_source_is_read_only(tmp_path: Path) -> None:
    port, db = free_port(), f"sqlite:///{tmp_path / 'civic.db'}"
    server = started("--db", db, "--port", str(port), cwd=tmp_path)
    _, err = server.communicate(timeout=30)
    assert server.returncode == 2  # read-only never makes a store: there is none
    assert "no civicflow store at" in err
    assert not (tmp_path / "civic.db").exists()
