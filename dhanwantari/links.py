"""Per-row links for long lists: one reverse() per page, each row's id filled in."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse


def url_for_each(viewname: str, *, stand_in: str = "STANDIN") -> Callable[[str], str]:
    """reverse(viewname, args=[pk]) for many rows at the cost of one reverse().

    The URL is reversed once with `stand_in` as the id, and each call puts a
    row's id in its place: a {% url %} per row and link was a large share of a
    list page's render time. `stand_in` must satisfy the route's converter
    (e.g. "dp_STANDIN" for a dp_-prefixed id) and appear nowhere else in the URL.
    """
    pattern = reverse(viewname, args=[stand_in])
    return lambda pk: pattern.replace(stand_in, str(pk))
