"""The in-process bus: wakes the outbox reader when the outbox grows.

It carries no data: the reader (``web/event_hub.py``, one per process) fetches
the ``events`` rows after the last id it handed out, so a missed wake-up costs
at most one poll interval and never loses an event. A broker adapter (NATS,
Redis) does the same across instances.

Commits happen in worker threads (FastAPI's thread pool, the ticker's
``to_thread``), the reader waits in an event loop: ``notify`` crosses over with
``loop.call_soon_threadsafe``. It also bumps a generation counter, so a reader
that looked at the generation before its query and waits afterwards with
``wait(timeout, seen)`` cannot miss a commit that landed in between (the
classic lost wake-up: without it that event would wait for the next commit or
the poll).
"""

from __future__ import annotations

import asyncio
import threading


class LocalBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def generation(self) -> int:
        """How many times ``notify`` has been called: read it before looking at the outbox."""
        return self._generation

    def notify(self) -> None:
        """Wake every waiting reader; safe to call from any thread."""
        with self._lock:
            self._generation += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # loop closed: the reader is gone
                pass

    async def wait(self, timeout: float, seen: int | None = None) -> bool:
        """Sleep until ``notify`` or ``timeout``; True if woken.

        With ``seen`` (a ``generation`` read earlier), return at once if a
        notify came since: the check and the registration happen under the
        lock ``notify`` takes, so no notify can fall between them. Without it,
        only a notify after the call wakes the caller.
        """
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            if seen is not None and self._generation != seen:
                return True
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(entry[1].wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.discard(entry)
