"""Per-review hand-over to the agent: wait for the person's next entries, deliver them at least once.

Delivery is marked in memory the moment a result is handed back, with no await in between, so a call cancelled
while waiting loses nothing; the mark is then written to the store in the background (a crash before that write
re-delivers, never loses). A result can still be lost after it was handed back: the agent's MCP client cancels the
call just as the result is made, and drops it when it comes. Such a client tells us (``notifications/cancelled``
for that request), so each result is remembered under a handle (the request) for a while, and ``undeliver`` puts
its entries back for the next call. A client that cannot tell (an HTTP client whose connection drops with the
response) acknowledges what it received instead: its hand-over is held, in memory only, until ``confirm`` writes
it, and without a confirmation in time its entries are pending again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

from backloop.review.entry import AGENT_KINDS, Entry
from backloop.review.store import Store, StoreError

log = logging.getLogger(__name__)
HANDED_KEPT = 64
"""How many recent results are remembered for ``undeliver``."""


@dataclass(eq=False)
class _Waiter:
    """One waiting call. Entries announced with their notification are handed over from memory; any other
    notification (a state change, an undelivered result) makes it read the store again."""

    wake: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: list[Entry] = field(default_factory=list)
    unknown: bool = True


@dataclass
class _Channel:
    waiters: set[_Waiter] = field(default_factory=set)


class Broker:
    def __init__(self, store: Store, on_waiters: Callable[[str, int], None] | None = None) -> None:
        self.store = store
        self._channels: dict[str, _Channel] = {}
        self._delivered: set[str] = set()
        self._handed: OrderedDict[Hashable, tuple[str, list[str]]] = OrderedDict()
        self._held: dict[Hashable, tuple[str, list[str], asyncio.TimerHandle]] = {}
        self._writes: set[asyncio.Task[None]] = set()
        self._on_waiters = on_waiters

    def _channel(self, review_id: str) -> _Channel:
        return self._channels.setdefault(review_id, _Channel())

    def notify(self, review_id: str, entries: Sequence[Entry] | None = None) -> None:
        """Something for the agent arrived: ``entries``, just stored, or (None) a change only the store can tell."""
        for waiter in self._channel(review_id).waiters:
            if entries is None:
                waiter.unknown = True
            else:
                waiter.arrived.extend(e for e in entries if e.author == "person" and e.kind in AGENT_KINDS
                                      and not e.delivered and not e.pending)
            waiter.wake.set()

    async def pending(self, review_id: str) -> list[Entry]:
        return [e for e in await self.store.pending(review_id) if e.id not in self._delivered]

    async def wait(self, review_id: str, wait_s: float, is_done: Callable[[], bool]) -> list[Entry]:
        """The pending entries, as soon as there is at least one (or ``is_done()``); [] after ``wait_s``."""
        channel = self._channel(review_id)
        me = _Waiter()
        channel.waiters.add(me)
        self._changed(review_id)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + wait_s
            while True:
                me.wake.clear()
                if me.unknown:
                    # Anything announced while the store is read is either in what it returns or handed over
                    # next time round (what is stored and not delivered is also found by the next call).
                    me.unknown = False
                    me.arrived.clear()
                    entries = await self.pending(review_id)
                else:
                    # Just stored and announced: no store round trip between the person's click and the agent.
                    fresh = {e.id: e for e in me.arrived if e.id not in self._delivered}
                    me.arrived.clear()
                    entries = sorted(fresh.values(), key=lambda e: e.seq)
                if entries or is_done():
                    return entries
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(me.wake.wait(), remaining)
        finally:
            channel.waiters.discard(me)
            self._changed(review_id)

    def undelivered(self, entries: Sequence[Entry]) -> list[Entry]:
        """Those of ``entries`` no call has been handed yet (after an await, another call may have been)."""
        return [e for e in entries if e.id not in self._delivered]

    def mark_delivered(self, entries: list[Entry], handle: Hashable | None = None, *,
                       held_s: float | None = None) -> None:
        """Call right before handing ``entries`` back (no await in between); ``handle`` names the hand-over (the
        MCP request) for ``undeliver``. With ``held_s`` (and a ``handle``), the hand-over is held: the store learns
        of it only from ``confirm(handle)``, and without one within ``held_s`` seconds it is undelivered."""
        ids = [e.id for e in entries]
        if not ids:
            return
        self._delivered.update(ids)
        if held_s is not None:
            assert handle is not None, "a held hand-over is confirmed by its handle"
            timer = asyncio.get_running_loop().call_later(held_s, self.undeliver, handle)
            self._held[handle] = (entries[0].review_id, ids, timer)
            return
        if handle is not None:
            self._handed[handle] = (entries[0].review_id, ids)
            while len(self._handed) > HANDED_KEPT:
                self._handed.popitem(last=False)
        self._write(ids, True)

    def confirm(self, handle: Hashable) -> bool:
        """The held hand-over ``handle`` reached the agent: record it. False when there is none (confirmed already,
        or undelivered since: its entries come again)."""
        held = self._held.pop(handle, None)
        if held is None:
            return False
        _, ids, timer = held
        timer.cancel()
        self._write(ids, True)
        return True

    def undeliver(self, handle: Hashable) -> None:
        """The result handed back under ``handle`` never reached the agent: its entries are pending again."""
        held = self._held.pop(handle, None)
        if held is not None:
            review_id, ids, timer = held
            timer.cancel()
            self._delivered.difference_update(ids)  # (the store never heard of this hand-over)
            log.info("%d item(s) handed over were not acknowledged; they will be delivered again", len(ids))
            self.notify(review_id)
            return
        handed = self._handed.pop(handle, None)
        if handed is None:
            return
        review_id, ids = handed
        self._delivered.difference_update(ids)
        log.info("the agent cancelled the call that received %d item(s); they will be delivered again", len(ids))
        self._write(ids, False, then_notify=review_id)

    def _write(self, ids: list[str], delivered: bool, then_notify: str | None = None) -> None:
        # Tasks start in creation order and the store runs its calls in order: the last mark written wins.
        task = asyncio.get_running_loop().create_task(self._persist(ids, delivered, then_notify))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _persist(self, ids: list[str], delivered: bool, then_notify: str | None) -> None:
        try:
            await self.store.mark_delivered(ids, delivered)
        except StoreError:
            log.exception("could not record delivery; the entries will be delivered again after a restart")
        if then_notify is not None:
            self.notify(then_notify)

    async def flush(self) -> None:
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _changed(self, review_id: str) -> None:
        if self._on_waiters is not None:
            self._on_waiters(review_id, len(self._channel(review_id).waiters))
