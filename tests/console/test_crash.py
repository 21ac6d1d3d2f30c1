"""A killed server loses no acknowledged report, and retries after the restart duplicate none."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from console_kit import add_token, report
from sqlalchemy import Engine, func, select

from odfix.console.db import Report, sessions


def _start(db_url: str, data: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "ODFIX_DATA_DIR": str(data)}
    server = subprocess.Popen([sys.executable, "-m", "odfix", "serve", "--port", str(port),
                               "--db", db_url], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/login", timeout=1)
            return server, url
        except httpx.HTTPError:
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)


def test_kill_9_keeps_every_acknowledged_report(engine: Engine, db_url: str,
                                                tmp_path: Path) -> None:
    token = add_token(engine)
    server, url = _start(db_url, tmp_path)
    acked: list[str] = []
    sent: list[str] = []
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=url, timeout=5,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            i = 0
            while not stop.is_set():
                run = f"c{n}-{i}"
                sent.append(run)
                try:
                    response = http.post("/api/v1/reports", json=report(
                        run, device=f"D{n}", host=f"PC-{n}", user=f"u{n}@x.com"))
                except httpx.HTTPError:
                    return
                if response.status_code in (200, 201):
                    acked.append(run)
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 150 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.send_signal(signal.SIGKILL)  # mid-stream: requests in flight are never answered
    server.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= 150
    with sessions(engine)() as db:
        stored = set(db.scalars(select(Report.run_id)))
    assert set(acked) <= stored
    # the clients retry everything they sent after the restart: nothing is stored twice
    server, url = _start(db_url, tmp_path)
    try:
        with httpx.Client(base_url=url, timeout=10,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            batch = [report(run, device="D", host="PC", user="u@x.com") for run in sent]
            for start in range(0, len(batch), 500):
                response = http.post("/api/v1/reports", json=batch[start:start + 500])
                assert response.status_code == 200
    finally:
        server.terminate()
        server.wait()
    with sessions(engine)() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == len(set(sent))
