"""At most N jobs in flight, results in input order: how batches stream through workers
without the whole input waiting in memory."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")
Handle = TypeVar("Handle")


def in_order(
    items: Iterable[Item], submit: Callable[[Item], Handle], limit: int
) -> Iterator[tuple[Item, Handle]]:
    """Submit each item and yield `(item, handle)` in input order, as soon as `limit` are
    pending (then the rest at the end); the caller waits on the handle. Memory holds at most
    `limit` submitted items, however long `items` is."""
    pending: deque[tuple[Item, Handle]] = deque()
    for item in items:
        pending.append((item, submit(item)))
        if len(pending) >= limit:
            yield pending.popleft()
    while pending:
        yield pending.popleft()
