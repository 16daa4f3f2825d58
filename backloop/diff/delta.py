"""What one client is sent of a view, decided once, here: the snapshot on connect, then only what changed since
it was last sent.

A client's delta keeps the FileDiff objects it last sent and the paths marked dirty since; the view replaces a
file's object exactly when its diff changed, so "changed for this client" is "not the object it was last sent".
Marking only adds to a set: bursts coalesce on their own, and a slow client costs one dirty set, never a growing
queue. The review's own changes (threads by id, its state) are marked here too, so one object says everything a
client still has to get; the hub turns each decision into a protocol message.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from backloop.diff.model import FileDiff
from backloop.diff.view import OK, DiffView, FilesChanged, NoticeChanged, ViewEvent, ViewNotice

SNAPSHOT_LINES = 300
"""Hunks of the first files up to this many lines go in the snapshot; later files follow as ``file`` messages, so
a client can paint the top of a huge diff before all of it has arrived. About three screens: the page paints two
before anything else, and each highlighted line is some 400 bytes to send and parse."""


@dataclass(frozen=True)
class SendState:
    """The review's state (approved, agent waiting…) changed."""


@dataclass(frozen=True)
class SendRounds:
    """A round of the review ended."""


@dataclass(frozen=True)
class SendThread:
    comment_id: str


@dataclass(frozen=True)
class SendViewed:
    """The viewed marks of these paths changed."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class SendNotice:
    notice: ViewNotice


@dataclass(frozen=True)
class SendFile:
    file: FileDiff


@dataclass(frozen=True)
class SendRemoved:
    path: str


Change = SendState | SendRounds | SendThread | SendViewed | SendNotice | SendFile | SendRemoved


@dataclass(frozen=True)
class SnapshotPlan:
    files: list[FileDiff]
    """Every file in path order; those past the budget as ``loading`` stubs, whose hunks follow as changes."""
    notice: ViewNotice | None
    """A notice to send before the files, if the view has one."""


class ClientDelta:
    def __init__(self, view: DiffView) -> None:
        self.view = view
        self._sent: dict[str, FileDiff] = {}
        self._dirty: set[str] = set()
        self._stubs: set[str] = set()
        """Paths sent as ``loading`` stubs in the snapshot: their full file is owed even if it did not change."""
        self._full: dict[str, FileDiff] = {}
        """Complete versions of ``too_large`` files the client asked for (``load_file``)."""
        self._notice: ViewNotice | None = None
        self._notice_dirty = False
        self._threads: set[str] = set()
        self._viewed: set[str] = set()
        self._state = False
        self._rounds = False

    # ---- marking ---------------------------------------------------------------------------------------------

    def on_view(self, event: ViewEvent) -> None:
        if isinstance(event, FilesChanged):
            self._dirty.update(event.paths)
        elif isinstance(event, NoticeChanged):
            self._notice_dirty = True

    def on_thread(self, comment_id: str) -> None:
        self._threads.add(comment_id)

    def on_state(self) -> None:
        self._state = True

    def on_rounds(self) -> None:
        self._rounds = True

    def on_viewed(self, paths: list[str]) -> None:
        self._viewed.update(paths)

    def sent(self, path: str) -> FileDiff | None:
        """The version of ``path`` this client was last sent."""
        return self._sent.get(path)

    def load(self, fd: FileDiff) -> None:
        """Send the complete version of a ``too_large`` file to this client from now on (while it is current)."""
        self._full[fd.path] = fd
        self._dirty.add(fd.path)

    # ---- deciding --------------------------------------------------------------------------------------------

    def snapshot(self) -> SnapshotPlan:
        """Everything the view shows now, within the snapshot budget; what was marked before is in it."""
        notice = self._take_notice()
        files = [fd for fd in (self._wire(p) for p in sorted(self.view.files)) if fd is not None]
        self._sent = {fd.path: fd for fd in files}
        self._dirty.clear()
        self._threads.clear()
        self._viewed.clear()
        budget = SNAPSHOT_LINES
        for i, fd in enumerate(files):
            lines = sum(len(h.lines) for h in fd.hunks)
            if lines > budget and fd.hunks:
                files[i] = msgspec.structs.replace(fd, hunks=[], loading=True)
                self._stubs.add(fd.path)
                self._dirty.add(fd.path)
                budget = 0
            else:
                budget -= lines
        return SnapshotPlan(files, notice)

    @property
    def owes_stubs_now(self) -> bool:
        """Stubs were sent and the view is complete: a view still parsing marks its files when they are done (and
        the stubs follow in order with them), a complete one may never change again."""
        return bool(self._dirty) and not self.view.loading

    def next(self) -> Change | None:
        """The next thing this client must be sent, most urgent first; None when it is up to date."""
        if self._state:
            self._state = False
            return SendState()
        if self._rounds:
            self._rounds = False
            return SendRounds()
        if self._threads:
            return SendThread(self._threads.pop())
        if self._viewed:
            paths = tuple(sorted(self._viewed))
            self._viewed.clear()
            return SendViewed(paths)
        if self._notice_dirty:
            notice = self._take_notice()
            if notice is not None:
                return SendNotice(notice)
        while self._dirty:
            path = min(self._dirty)
            self._dirty.discard(path)
            change = self._file_change(path)
            if change is not None:
                return change
        return None

    def _file_change(self, path: str) -> SendFile | SendRemoved | None:
        wire = self._wire(path)
        if wire is None:
            return SendRemoved(path) if self._sent.pop(path, None) is not None else None
        if self._sent.get(path) is wire and path not in self._stubs:
            return None
        self._stubs.discard(path)
        self._sent[path] = wire
        return SendFile(wire)

    def _wire(self, path: str) -> FileDiff | None:
        current = self.view.files.get(path)
        if current is not None and current.too_large:
            full = self._full.get(path)
            if full is not None and full.digest == current.digest:
                return full
        return current

    def _take_notice(self) -> ViewNotice | None:
        """The view's notice if this client has not seen it (an ``ok`` only after a warning or error)."""
        self._notice_dirty = False
        notice = self.view.notice
        if notice == self._notice or (self._notice is None and notice == OK):
            self._notice = notice
            return None
        self._notice = notice
        return notice
