"""Paging through a state view that has no total: speculative windows of concurrent pages.

The body of every page is a bare JSON array; the last page is the first with fewer than
``size`` elements (an empty one when the total is a multiple of ``size``). Knowing no total,
the pager asks for page 0 alone (most filtered views fit in one page), then keeps ``window``
pages requested ahead (a sliding window: the next page goes out as soon as the lowest one is
in) and stops at the first short page: at most ``window - 1`` requests are wasted, and a large
view takes about ``pages / window`` round trips instead of ``pages``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from padtec_exporter.nms.errors import PagingError

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]  # the rows the decoder kept (none when the caller took them as they came)
    raw_count: int  # elements in the page's array, kept or dropped: decides the last page
    kept: int | None = None  # how many rows the decoder kept, when not len(rows)

    @property
    def kept_rows(self) -> int:
        return len(self.rows) if self.kept is None else self.kept


# Turns one page's body into rows; raises MalformedReply when the body is not the expected shape.
Decoder = Callable[[bytes], Page[T]]


@dataclass(frozen=True)
class Sweep(Generic[T]):
    """Every page of one view: the rows kept, and what the NMS actually served."""

    rows: list[T]
    raw_rows: int  # array elements over all pages, kept or dropped (compared with */count)
    kept_rows: int  # rows the decoder kept over all pages
    pages: int  # pages consumed, the short last one included
    largest_page: int  # the most elements one page held


@dataclass(frozen=True)
class FetchedPage(Generic[T]):
    page: Page[T]
    # The raw reply: an NMS that ignores `page` sends the same bytes again. Compared, not
    # hashed: a length check or memcmp costs nothing next to hashing every page.
    body: bytes


async def fetch_pages(
    fetch: Callable[[int], Awaitable[FetchedPage[T]]],
    *,
    page_size: int,
    max_pages: int,
    window: int,
) -> Sweep[T]:
    """Rows of every page in page order; ``fetch(n)`` fetches page ``n`` (0-based).

    Pages are consumed in order while the ``window`` pages from the next one on are requested
    (only page 0 at first). A page's failure ends the view only when every page before it
    came in full; pages past the short one are cancelled and their failures ignored.
    """
    rows: list[T] = []
    raw_rows = kept_rows = largest = 0
    previous: bytes | None = None
    ahead: deque[asyncio.Future[FetchedPage[T]]] = deque()
    requested = 0
    try:
        for number in range(max_pages):
            width = 1 if number == 0 else window
            while len(ahead) < width and requested < max_pages:
                ahead.append(asyncio.ensure_future(fetch(requested)))
                requested += 1
            fetched = await ahead.popleft()  # re-raises the page's error
            full = fetched.page.raw_count >= page_size
            if full and fetched.body == previous:
                raise PagingError(
                    f"page {number} repeats page {number - 1}; the NMS seems to ignore 'page'"
                )
            previous = fetched.body
            rows.extend(fetched.page.rows)
            raw_rows += fetched.page.raw_count
            kept_rows += fetched.page.kept_rows
            largest = max(largest, fetched.page.raw_count)
            if not full:
                return Sweep(rows, raw_rows, kept_rows, number + 1, largest)
        raise PagingError(f"more than max_pages={max_pages} pages; the view never ended")
    finally:
        for task in ahead:
            task.cancel()
        # Wait for the cancelled pages and collect their errors (no "never retrieved").
        await asyncio.gather(*ahead, return_exceptions=True)
