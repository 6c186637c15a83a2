"""The in-process bus: wakes event-stream readers when the outbox grows.

It carries no data: readers fetch the ``events`` rows after their last id, so
a missed wake-up costs at most one poll interval and never loses an event.
A broker adapter (NATS, Redis) does the same across instances.
"""

from __future__ import annotations

import asyncio
import threading


class LocalBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def notify(self) -> None:
        """Wake every waiting reader; safe to call from any thread."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # loop closed: the reader is gone
                pass

    async def wait(self, timeout: float) -> bool:
        """Sleep until ``notify`` or ``timeout``; True if woken."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(entry[1].wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.discard(entry)
