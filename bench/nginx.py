"""nginx on loopback for the benchmarks: a one-worker server with the given locations (and
`listening`, which runs any such server for a block)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CONF = """
worker_processes 1;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port};
{locations}
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def nginx(locations: str) -> Iterator[int]:
    """Start nginx (from the system) with `locations` in its one server; yield its port."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        sys.exit("nginx is not installed: run `bash scripts/system-packages.sh nginx` first")
    with tempfile.TemporaryDirectory(prefix="tagtrail-bench-") as tmp:
        port = free_port()
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(CONF.format(tmp=tmp, port=port, locations=locations))
        argv = [binary, "-p", tmp, "-c", str(conf), "-g", "daemon off;"]
        with listening(argv, port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            yield port


@contextmanager
def listening(argv: list[str], port: int, **popen: Any) -> Iterator[None]:
    """Run `argv` until the block ends, once it listens on loopback `port` (10 s at most)."""
    proc = subprocess.Popen(argv, **popen)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)
