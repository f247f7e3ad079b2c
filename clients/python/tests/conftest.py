"""Fixtures: a real hub per backend, and a misbehaving proxy in front of it.

See ``hub_client_testing`` for how hubs are started (each with a database of its own).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub_client_testing import Hub, Proxy, start_hub
from tests.conftest import BACKENDS


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def hub(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One hub for the tests that only need a hub (they use distinct data)."""
    with start_hub(backend, tmp_path_factory.mktemp("client-hub")) as running:
        yield running


@pytest.fixture
def proxy(hub: Hub) -> Iterator[Proxy]:
    with Proxy(hub.base_url) as running:
        yield running


