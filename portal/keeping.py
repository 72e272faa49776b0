"""A small store of results kept for a number of seconds: the dashboards' figures
(portal.dashboard.kept) and the worker pages (portal.kept_pages)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.timeutil import utcnow


@dataclass(frozen=True)
class Kept:
    """Figures and when they were worked out (UTC)."""

    value: Any
    worked_out_at: datetime
    expires: float  # on the store's monotonic clock


class KeptFigures:
    """A small, thread-safe store of results that expire ``seconds`` after they are made."""

    def __init__(self, seconds: int, size: int = 1024, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.size = size
        self.clock = clock
        self._items: OrderedDict[Hashable, Kept] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, make: Callable[[], Any]) -> Kept:
        """The kept result for ``key``, or ``make()`` worked out now (and kept)."""
        if self.seconds <= 0:
            return Kept(make(), utcnow(), 0.0)
        now = self.clock()
        with self._lock:
            kept = self._items.get(key)
            if kept is not None and kept.expires > now:
                self._items.move_to_end(key)
                self.hits += 1
                return kept
        # Worked out outside the lock: a slow range must not hold up another viewer's.
        kept = Kept(make(), utcnow(), now + self.seconds)
        with self._lock:
            self.misses += 1
            self._items[key] = kept
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return kept

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
