"""Helpers for admin tests."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def changelist(client: Client, url: str) -> tuple[int, int]:
    """Load a changelist; return (queries it ran, rows it found)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.context["cl"].result_count


def changelist_growth(client: Client, url: str, make_row, *, few: int = 3, many: int = 30):
    """Load a changelist after making `few` rows, then again after `many`.

    Returns ((queries, rows), (queries, rows)): equal query counts prove the
    page has no N+1.
    """
    # One request first: a session's first request writes its idle-timeout
    # clock, which is not the page's cost.
    client.get(url)
    for i in range(few):
        make_row(i)
    first = changelist(client, url)
    for i in range(few, many):
        make_row(i)
    return first, changelist(client, url)
