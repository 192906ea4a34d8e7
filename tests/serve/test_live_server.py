"""`crmine serve` in its own process on a loopback port: sales change the features at once, and a
kill -9 right after a 201 loses nothing that was acknowledged."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.serve.conftest import auth


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(shop: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "crmine", "serve", str(shop), "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail(f"the server did not answer within 60 s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_live_server_scores_sales_and_survives_kill_9(shop, keys, tmp_path):
    log = tmp_path / "server.log"
    till, analyst = auth(keys["till"]), auth(keys["analyst"])
    proc, base = _start(shop, log)
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            before = http.get("/v1/customers/C05", headers=analyst).json()["features"]
            assert http.get("/v1/customers/C05").status_code == 401
            sales = [{"order_id": f"L{i}", "line_no": 1, "customer_id": "C05", "ts": f"2024-06-2{i}T12:00:00",
                      "product_id": "P2", "quantity": 1, "amount": 10.0 * i, "channel": "web"} for i in (1, 2)]
            for sale in sales:
                assert http.post("/v1/events/transactions", json=sale, headers=till).status_code == 201
            assert http.post("/v1/events/transactions", json=sales[0], headers=till).status_code == 200
            assert http.post("/v1/events/transactions", json=sales[0], headers=analyst).status_code == 403
            after = http.get("/v1/customers/C05", headers=analyst).json()
            assert after["features"]["orders"] == before["orders"] + 2
            assert after["features"]["spend"] == pytest.approx(before["spend"] + 30.0)
            assert after["features"]["last_purchase"] == "2024-06-22T12:00:00"
            assert "churn" in after["scores"]
            last = {**sales[0], "order_id": "L9", "amount": 99.0}
            assert http.post("/v1/events/transactions", json=last, headers=till).status_code == 201
        _stop(proc)  # SIGKILL right after the 201: no shutdown, no checkpoint
    finally:
        _stop(proc)
    proc, base = _start(shop, log)
    try:
        got = httpx.get(f"{base}/v1/customers/C05", headers=analyst, timeout=30).json()["features"]
        assert got["orders"] == before["orders"] + 3
        assert got["spend"] == pytest.approx(before["spend"] + 129.0)
    finally:
        _stop(proc)
    text = log.read_text()
    assert "/v1/customers/{customer_id}" in text and "POST /v1/events/transactions 201" in text
    for secret in (*keys.values(), "C05", "p5@example.com"):  # no keys, no ids, no personal values
        assert secret not in text
