"""An event loop on a thread of its own.

Servers (and async client adapters) each own one, so a sync client in the test
thread never shares a loop with the server it talks to, and an async client's
loop is never the server's. ``run`` hands a coroutine over and waits, bounded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

#: The longest a start or stop of a server may take.
CONTROL_TIMEOUT = 10.0


class LoopThread:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = CONTROL_TIMEOUT) -> T:
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        """Cancel what still runs (open connections), then end the loop and its thread."""
        if self.loop.is_closed():
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # Close the async generators a failed call left open (httpcore's body iterator)
            # on this loop, now: collected after it closed, their aclose() would be
            # scheduled on a dead loop ("coroutine ... was never awaited", seen on 3.13).
            await asyncio.get_running_loop().shutdown_asyncgens()

        try:
            self.run(cancel_all())
        except Exception:  # stopping must not fail a run that already measured its cells
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(CONTROL_TIMEOUT)
        if not self._thread.is_alive():
            self.loop.close()
