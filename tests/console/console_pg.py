"""A throwaway PostgreSQL server from Debian's binaries (tests and benchmarks start their own).

``initdb`` into a fresh folder, ``postgres`` on a free port on 127.0.0.1, torn down on ``stop``.
PostgreSQL refuses to run as root, so as root the folder is handed to an unprivileged user
(``postgres`` when the package created it, else ``nobody``) and the server runs as that user.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/<n>/bin`` with initdb, or the one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name)
                   if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) exists")


class PgServer:
    """One running server; ``url(db)`` for a database on it, ``create(db)`` makes one."""

    def __init__(self, *, durable: bool = False, keep: Path | None = None) -> None:
        """``keep``: a folder to reuse (initialised on first use) and leave in place on stop."""
        bindir = binaries()
        if bindir is None:
            raise FileNotFoundError("PostgreSQL binaries not found (apt-get install postgresql)")
        self.user = _run_as()
        self.kept = keep is not None
        # pytest's tmp folders are private to root: the server's user must reach its folder
        self.root = keep or Path(tempfile.mkdtemp(prefix="odfix-pg-", dir="/tmp"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.data = self.root / "data"
        self.port = _free_port()
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            subprocess.run([str(bindir / "initdb"), "-D", str(self.data), "-U", "odfix",
                            "--auth=trust", "-E", "UTF8", "--no-sync"],
                           check=True, capture_output=True, user=self.user, cwd=self.root)
        settings = ["-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}",
                    "-c", f"unix_socket_directories={self.root}", "-c", "max_connections=200"]
        if not durable:  # tests only: nothing survives them anyway
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                         "-c", "full_page_writes=off"]
        self.log = open(self.root / "server.log", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen([str(bindir / "postgres"), "-D", str(self.data),
                                         *settings], stdout=self.log, stderr=subprocess.STDOUT,
                                        user=self.user, cwd=self.root)
        self._wait()

    def _wait(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.url("postgres").replace("+psycopg", ""),
                                connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.root / "server.log").read_text(errors="replace")[-2000:]
                    self.stop()
                    raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
                time.sleep(0.1)

    def url(self, database: str) -> str:
        return f"postgresql://odfix@127.0.0.1:{self.port}/{database}"

    def create(self, database: str, *, reuse: bool = False) -> str:
        """A fresh database (``reuse``: keep it when it exists)."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (database,)).fetchone()
            if exists and reuse:
                return self.url(database)
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')
        return self.url(database)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        if not self.kept:
            shutil.rmtree(self.root, ignore_errors=True)
