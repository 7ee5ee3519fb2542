"""Per-person state kept in memory for the most recent people of one worker.

The lexical index and the kept journals hold one person's derived data each (texts
among it), bounded to the ``most`` people used last: one shared mechanism, so both
evict, forget and guard their map the same way. Each person's state carries its own
lock for its own updates; the lock here only guards the map.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class PerUserLRU(Generic[T]):
    def __init__(self, most: int, make: Callable[[str], T]):
        self._most = most
        self._make = make
        self._map: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, user_id: str) -> T:
        """This person's state (made empty the first time), marked most recent; the
        person used longest ago is dropped past ``most``."""
        with self._lock:
            state = self._map.get(user_id)
            if state is None:
                state = self._map[user_id] = self._make(user_id)
            self._map.move_to_end(user_id)
            while len(self._map) > self._most:
                self._map.popitem(last=False)
            return state

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._map.pop(user_id, None)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._map

    def __getitem__(self, user_id: str) -> T:
        return self._map[user_id]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._map))
