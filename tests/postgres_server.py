"""A real PostgreSQL server for the tests (not a test module): `initdb` + `pg_ctl` in a
temporary folder, on a free local port, trust authentication, stopped at the end.

The server binaries are found on PATH or under /usr/lib/postgresql/*/bin (Debian's
postgresql package). PostgreSQL refuses to run as root: as root, the cluster is
created and run as the `postgres` system user (runuser).
"""

import getpass
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional


def find_bin(name: str) -> Optional[str]:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_user(cmd: List[str], user: Optional[str]) -> List[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields a SQLAlchemy URL (postgresql+psycopg://...) of a fresh, empty server."""
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under "
            "/usr/lib/postgresql/*/bin: install the postgresql package."
        )
    user = "postgres" if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="pgtest-"))
    data, log = folder / "data", folder / "server.log"
    if user:
        shutil.chown(folder, user)
        os.chmod(folder, 0o700)
    port = _free_port()
    db_user = "postgres" if user else getpass.getuser()
    subprocess.run(
        _as_user(
            [initdb, "-D", str(data), "-U", db_user, "--auth=trust", "-E", "UTF8", "--no-sync"],
            user,
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_user(
            [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
            user,
        ),
        check=True,
        capture_output=True,
    )
    try:
        url = f"postgresql+psycopg://{db_user}@127.0.0.1:{port}/postgres"
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL did not listen on {port}: {log.read_text()}"
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        subprocess.run(
            _as_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], user),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
