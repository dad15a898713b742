"""Fixtures shared by the consultations tests."""

from __future__ import annotations

import pytest
from channels.layers import channel_layers
from channels.security.websocket import OriginValidator


@pytest.fixture
def application(settings, monkeypatch):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    from dhanwantari.asgi import application

    # AllowedHostsOriginValidator copies ALLOWED_HOSTS once, when
    # dhanwantari.asgi is first imported; point the copy at this test's hosts
    # in case another test imported the module under other settings.
    validator = application.application_mapping["websocket"]
    assert isinstance(validator, OriginValidator)
    monkeypatch.setattr(validator, "allowed_origins", settings.ALLOWED_HOSTS)
    # A fresh channel layer per test: each test runs in its own event loop
    # (async_to_sync), and channels-redis binds its locks to the first loop
    # that used them.
    channel_layers.backends.clear()
    yield application
    channel_layers.backends.clear()
