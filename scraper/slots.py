"""The pool's slots: which browser, start or empty place a checkout takes, and when it waits."""
import threading
from concurrent.futures import Future

from scraper.browser import Browser
from scraper.errors import PoolTimeout


class Slots:
    """`size` slots, each empty (None), starting (a Future of a Browser) or holding a Browser.

    take() waits (up to its timeout) only while every slot is in use; it hands out the most
    recently returned browser (the warmest), else a start under way, else an empty slot.
    A free slot holds `settled(item)` for what it is given, and again when settle() says so.
    """

    def __init__(self, size, settled=lambda item: item):
        self._items = [None] * size
        self._settled = settled
        self._changed = threading.Condition()

    def take(self, timeout):
        with self._changed:
            if not self._changed.wait_for(lambda: self._items, timeout):
                raise PoolTimeout(f"no browser free within {timeout:.1f} s")
            ranks = [_rank(item) for item in self._items]
            best = len(ranks) - 1 - ranks[::-1].index(max(ranks))
            return self._items.pop(best)

    def give(self, item):
        with self._changed:
            self._items.append(self._settled(item))
            self._changed.notify()

    def settle(self, item):
        """`item` changed (a successor is ready): if it is in a free slot, settle it there. Under
        the same lock as give(), so a change just before an item comes back is never missed."""
        with self._changed:
            for index, held in enumerate(self._items):
                if held is item:
                    self._items[index] = self._settled(item)

    def take_dead(self):
        """The free slots' browsers that died while idle; their slots become empty."""
        with self._changed:
            dead = [item for item in self._items if isinstance(item, Browser) and not item.alive()]
            self._items = [None if item in dead else item for item in self._items]
        return dead

    def start_empty(self, count, start):
        """Turn empty slots into starts until `count` free slots hold or start a browser."""
        with self._changed:
            have = sum(item is not None for item in self._items)
            for index, item in enumerate(self._items):
                if have >= count:
                    break
                if item is None:
                    self._items[index] = start()
                    have += 1


def _rank(item):
    if isinstance(item, Browser):
        return 2
    return 1 if isinstance(item, Future) else 0
