"""Loopback servers for the checker tests (nginx config, TLS certificates, Python servers)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import trustme

CHAIN_LENGTH = 12


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"nginx exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nginx did not listen on {port}:\n{log.read_text(errors='replace')}")


@dataclass(frozen=True)
class Nginx:
    http: int
    https: int  # valid certificate for localhost, 127.0.0.1, shop.test
    expired: int
    wrong_host: int
    ca: trustme.CA

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http}{path}"

    def surl(self, path: str, port: int | None = None) -> str:
        return f"https://127.0.0.1:{port or self.https}{path}"

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


def chain_locations() -> str:
    lines = [
        f"location = /chain/{i} {{ return 302 /chain/{i + 1}$is_args$args; }}"
        for i in range(1, CHAIN_LENGTH + 1)
    ]
    lines.append(f'location = /chain/{CHAIN_LENGTH + 1} {{ return 200 "end of chain\\n"; }}')
    return "\n    ".join(lines)


NGINX_CONF = """
{user}
worker_processes 1;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  default_type text/plain;
  types {{ text/html html; }}
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{http};
    root {tmp}/www;
    # `return 301 https://$host$uri` (the classic http->https snippet): drops the query string
    location /drop/ {{ return 301 https://$host:{https}$uri; }}
    # `rewrite ... permanent` appends the query string
    location /keep/ {{ rewrite ^/keep/(.*)$ /landing/$1 permanent; }}
    # `$request_uri` carries path and query
    location /ruri/ {{ return 302 http://$host:{http}/landing$request_uri; }}
    location /tohttps/ {{ return 301 https://$host:{https}$request_uri; }}
    # relative Location headers
    location /rel/ {{ absolute_redirect off; return 302 ../landing/rel$is_args$args; }}
    # email click wrapper -> link shortener -> the site
    location /ls/click {{ return 302 /go/spring$is_args$args; }}
    location /ls/strip {{ return 302 /go/spring; }}
    location /go/ {{ return 301 https://$host:{https}/landing/$is_args$args; }}
    location = /loop/a {{ return 302 /loop/b$is_args$args; }}
    location = /loop/b {{ return 302 /loop/a$is_args$args; }}
    location = /refresh {{ add_header Refresh "0; url=/landing/refreshed?$args" always;
                          return 200 "wait\\n"; }}
    location /landing/ {{ return 200 "landing\\n"; }}
    location = /teapot {{ return 500 "broken\\n"; }}
    {chain}
  }}
  server {{
    listen 127.0.0.1:{https} ssl;
    ssl_certificate {tmp}/valid.pem; ssl_certificate_key {tmp}/valid.key;
    location / {{ return 200 "secure page\\n"; }}
    location /down/ {{ return 302 http://$host:{http}/landing/$is_args$args; }}
  }}
  server {{
    listen 127.0.0.1:{expired} ssl;
    ssl_certificate {tmp}/expired.pem; ssl_certificate_key {tmp}/expired.key;
    location / {{ return 200 "expired\\n"; }}
  }}
  server {{
    listen 127.0.0.1:{wrong_host} ssl;
    ssl_certificate {tmp}/wrong.pem; ssl_certificate_key {tmp}/wrong.key;
    location / {{ return 200 "wrong host\\n"; }}
  }}
}}
"""

META_HTML = """<!doctype html><html><head><title>moving</title>
<meta http-equiv="Refresh"
      content="0; URL='/landing/meta?utm_source=news&amp;utm_medium=email&amp;utm_campaign=spring'">
</head><body>moving</body></html>"""
JS_HTML = """<!doctype html><html><head><script>
window.location.replace("https://shop.example/?utm_source=news");
</script></head><body>Redirecting...</body></html>"""


def write_site(tmp: Path, ca: trustme.CA) -> None:
    www = tmp / "www"
    (www / "site" / "dir").mkdir(parents=True)
    (www / "site" / "dir" / "index.html").write_text("<p>directory index</p>")
    (www / "meta.html").write_text(META_HTML)
    (www / "js.html").write_text(JS_HTML)
    (www / "big.html").write_text("<p>" + "x" * (2 * 1024 * 1024) + "</p>")
    now = dt.datetime.now(dt.UTC)
    certs = {
        "valid": ca.issue_cert(
            "localhost", "127.0.0.1", "shop.test", not_after=now + dt.timedelta(days=90)
        ),
        "expired": ca.issue_cert(
            "localhost",
            "127.0.0.1",
            not_before=now - dt.timedelta(days=400),
            not_after=now - dt.timedelta(days=30),
        ),
        "wrong": ca.issue_cert("other.example"),
    }
    for name, cert in certs.items():
        cert.private_key_pem.write_to_path(str(tmp / f"{name}.key"))
        cert.cert_chain_pems[0].write_to_path(str(tmp / f"{name}.pem"))
        for extra in cert.cert_chain_pems[1:]:
            extra.write_to_path(str(tmp / f"{name}.pem"), append=True)


def nginx_binary() -> str:
    path = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if path is None:
        pytest.fail("nginx is not installed: run `make test` (it installs nginx first)")
    return path


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PyServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self.server.hits += 1
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        try:
            self._route(parts.path, query)
        except OSError:  # the checker hung up: expected for the slow and huge answers
            self.close_connection = True

    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        if path == "/to":  # an open redirect: the "public" origin of the guard tests
            self._send(302, {"Location": query["u"][0]})
        elif path == "/slow":
            self.server.stop.wait(float(query.get("s", ["3"])[0]))
            self._send(200, {"Content-Type": "text/plain"}, b"slow\n")
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                if self.server.stop.wait(0.05):
                    return
                self.wfile.write(b"x")
                self.wfile.flush()
        elif path == "/huge":
            chunk = b"<p>" + b"y" * 65533
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(chunk) * 1600))  # 100 MiB
            self.end_headers()
            for _ in range(1600):
                self.wfile.write(chunk)
                self.server.sent += len(chunk)
        elif path == "/no-location":
            self._send(302, {})
        else:
            self._send(200, {"Content-Type": "text/plain"}, b"ok\n")


class PyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits = 0
        self.connections = 0
        self.sent = 0
        self.stop = threading.Event()

    def get_request(self) -> tuple[socket.socket, Any]:
        request = super().get_request()
        self.connections += 1
        return request

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextlib.contextmanager
def running_nginx(tmp: Path) -> Iterator[Nginx]:
    """nginx with the site and chains above on four free ports of 127.0.0.1, its files in `tmp`."""
    binary = nginx_binary()
    ca = trustme.CA()
    write_site(tmp, ca)
    ports = {name: free_port() for name in ("http", "https", "expired", "wrong_host")}
    conf = tmp / "nginx.conf"
    # as root, workers would run as nobody and could not read the private tmp dir
    user = "user root root;" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, chain=chain_locations(), **ports))
    log = tmp / "stderr.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for port in ports.values():
            wait_for_port(port, proc, tmp / "error.log")
        yield Nginx(ca=ca, **ports)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
