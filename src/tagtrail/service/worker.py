"""One helper process that runs functions sent to it, one at a time, for the dashboard's journeys
(`figures.py`): their Python runs there, not under the server's GIL, and their memory is not
the server's.

`Worker.submit(fn, *args)` sends a module-level function and its arguments through a pipe and
returns a Future; a daemon thread reads the replies. The process is started (spawn) on the first
call and again after it died (the calls in flight then fail); it is a daemonic child, so it ends
with the server. A function's exception comes back as `WorkerError` with its text.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

logger = logging.getLogger(__name__)


class WorkerError(RuntimeError):
    """A call failed in the helper process, or the process ended during it."""


class Worker:
    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self._pending: dict[int, Future[Any]] = {}
        self._ids = itertools.count()
        self.answering = threading.Event()  # set once the current process has answered

    def warm(self, fn: Callable[[], Any]) -> None:
        """Start the process (if it is not running) and have it run `fn` (e.g. to import what
        the later calls need), so the first real call does not wait for that."""
        with self._lock:
            running = self._proc is not None and self._proc.is_alive()
        if not running:
            self.submit(fn)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._proc is None or not self._proc.is_alive():
                self._start()
            assert self._conn is not None
            number = next(self._ids)
            self._pending[number] = future
            try:
                self._conn.send((number, fn, args))
            except (OSError, ValueError) as exc:
                del self._pending[number]
                future.set_exception(WorkerError(f"cannot reach the {self._name} process: {exc}"))
        return future

    def _start(self) -> None:
        self.answering.clear()
        context = multiprocessing.get_context("spawn")
        mine, theirs = context.Pipe()
        proc = context.Process(target=_serve, args=(theirs,), name=self._name, daemon=True)
        proc.start()
        theirs.close()
        self._proc, self._conn = proc, mine
        threading.Thread(
            target=self._replies, args=(mine,), name=f"{self._name}-replies", daemon=True
        ).start()

    def _replies(self, conn: Connection) -> None:
        while True:
            try:
                number, ok, value = conn.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                future = self._pending.pop(number, None)
                if self._conn is conn:
                    self.answering.set()
            if future is not None:
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(WorkerError(value))
        with self._lock:
            if self._conn is conn:
                lost, self._pending = self._pending, {}
                self._proc = self._conn = None
            else:
                lost = {}
        for future in lost.values():
            future.set_exception(WorkerError(f"the {self._name} process ended"))


def _serve(conn: Connection) -> None:
    """The helper process: run each call received, send its result back."""
    while True:
        try:
            number, fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = (number, True, fn(*args))
        except Exception as exc:  # sent back to the caller, whatever it is
            logger.exception("%s failed", getattr(fn, "__name__", fn))
            reply = (number, False, f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except Exception as exc:  # a result that does not pickle
            conn.send((number, False, f"cannot send the result back: {exc}"))
