"""Store fixtures (each contract test on SQLite and on MongoDB, secantus); a secured service."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.service import RunningService, running_service, secured_config
from web_extras.store import HistoryStore
from web_extras.store.sqlite import SqliteHistoryStore

StoreFactory = Callable[[], HistoryStore]
_databases = itertools.count()


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[Any]:
    secantus = pytest.importorskip(
        "secantus",
        reason="secantusdb has no wheel for this Python; the Mongo store is tested on 3.11",
    )
    server = secantus.SecantusDBServer(storage_path=":memory:")
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "mongo"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Builds unopened stores that share one database, to test reopening."""
    if request.param == "sqlite":
        path = tmp_path / "history.sqlite"
        return lambda: SqliteHistoryStore(path)
    pytest.importorskip("pymongo")
    from web_extras.store.mongo import MongoHistoryStore

    server = request.getfixturevalue("mongo_server")
    url = server.uri + "?directConnection=true"
    database = f"beerpi_test_{next(_databases)}"
    return lambda: MongoHistoryStore(url, database)


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[HistoryStore]:
    opened = make_store()
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[RunningService]:
    """The real service, empty, wanting a login or the API token (secured_config)."""
    async with running_service(secured_config(tmp_path)) as service:
        yield service
