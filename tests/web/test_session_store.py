"""Brew sessions in the history store: the contract, on SQLite and on MongoDB alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.web.test_store_contract import StoreFactory
from web_extras.store import BrewSession, HistoryStore, SessionNote, SessionOpen
from web_extras.store.sessions import MAX_LABEL, MAX_NOTES

T0 = datetime(2024, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def brew(sid: str, device: str = "fv1", **fields: object) -> BrewSession:
    base: dict[str, object] = {"name": "Pale Ale", "start": T0}
    base.update(fields)
    return BrewSession(sid.ljust(16, "0"), device, **base)  # type: ignore[arg-type]


async def test_a_session_round_trips(store: HistoryStore, make_store: StoreFactory) -> None:
    note = SessionNote(T0 + DAY, "pitched at 18 °C\nsmells of <b>banana</b>")
    session = brew("a1", style="APA", yeast="US-05", og=1.052, notes=(note,))
    await store.start_session(session)
    assert await store.get_session(session.id) == session
    reopened = make_store()
    await reopened.open()
    try:
        assert await reopened.get_session(session.id) == session
    finally:
        await reopened.close()
    assert await store.get_session("f" * 16) is None


async def test_one_running_session_per_fermenter(store: HistoryStore) -> None:
    first = brew("a1")
    await store.start_session(first)
    with pytest.raises(SessionOpen) as refused:
        await store.start_session(brew("a2", name="Stout"))
    assert refused.value.session_id == first.id
    assert await store.get_session(brew("a2").id) is None  # nothing half-stored
    await store.start_session(brew("b1", device="fv2"))  # another fermenter is free
    # A past batch (already ended) does not need the fermenter.
    await store.start_session(brew("a0", start=T0 - 30 * DAY, end=T0 - 20 * DAY))
    ended = await store.update_session(brew("a1", end=T0 + 14 * DAY))
    assert ended is not None
    assert ended.end == T0 + 14 * DAY
    await store.start_session(brew("a3", name="Stout", start=T0 + 15 * DAY))
    assert [s.id for s in await store.sessions("fv1")] == [
        brew("a3").id,
        brew("a1").id,
        brew("a0").id,
    ]
    assert {s.device for s in await store.sessions()} == {"fv1", "fv2"}
    running = [s for s in await store.sessions() if s.running]
    assert {(s.device, s.name) for s in running} == {("fv1", "Stout"), ("fv2", "Pale Ale")}


async def test_racing_starts_let_one_win(store: HistoryStore) -> None:
    results = await asyncio.gather(
        *(store.start_session(brew(f"c{i}", name=f"Beer {i}")) for i in range(6)),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, SessionOpen) for r in results if r is not None)
    assert len(await store.sessions("fv1")) == 1


async def test_edits_keep_notes_and_never_reopen(store: HistoryStore) -> None:
    await store.start_session(brew("a1"))
    await store.add_session_note(brew("a1").id, SessionNote(T0 + DAY, "krausen up"))
    edited = await store.update_session(brew("a1", name="Pale Ale #2", fg=1.010))
    assert edited is not None
    assert (edited.name, edited.fg, [n.text for n in edited.notes]) == (
        "Pale Ale #2",
        1.010,
        ["krausen up"],
    )
    await store.update_session(brew("a1", end=T0 + 10 * DAY))
    # An edit made from a copy read before the end keeps the end.
    kept = await store.update_session(brew("a1", name="Pale Ale #3"))
    assert kept is not None
    assert kept.end == T0 + 10 * DAY
    assert kept.name == "Pale Ale #3"
    with pytest.raises(ValueError, match="after start"):
        await store.update_session(brew("a1", start=T0 + 11 * DAY))
    assert (await store.get_session(brew("a1").id)) == kept  # a refused edit changed nothing
    assert await store.update_session(brew("f1")) is None
    assert await store.update_session(brew("a1", device="fv9")) is None


async def test_notes_append_in_order_up_to_the_cap(store: HistoryStore) -> None:
    sid = brew("a1").id
    await store.start_session(brew("a1"))
    await asyncio.gather(
        *(store.add_session_note(sid, SessionNote(T0 + i * DAY, f"note {i}")) for i in range(5))
    )
    got = await store.get_session(sid)
    assert got is not None
    assert sorted(n.text for n in got.notes) == [f"note {i}" for i in range(5)]
    assert await store.add_session_note("f" * 16, SessionNote(T0, "x")) is None
    full = brew("b1", device="fv2", notes=tuple(SessionNote(T0, "n") for _ in range(MAX_NOTES)))
    await store.start_session(full)
    with pytest.raises(ValueError, match="at most"):
        await store.add_session_note(full.id, SessionNote(T0, "one too many"))
    again = await store.get_session(full.id)
    assert again is not None
    assert len(again.notes) == MAX_NOTES


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "name must not be empty"),
        ({"name": "  "}, "name must not be empty"),
        ({"name": "x" * (MAX_LABEL + 1)}, "longer than"),
        ({"style": "IPA\x00"}, "control characters"),
        ({"yeast": "a\nb"}, "control characters"),
        ({"og": 2.5}, "between"),
        ({"fg": True}, "number"),
        ({"og": float("nan")}, "number"),
        ({"start": datetime(2024, 1, 1)}, "timezone-aware"),
        ({"end": T0}, "after start"),
    ],
)
def test_sessions_refuse_bad_fields(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        brew("a1", **fields)


def test_session_ids_and_notes_are_checked() -> None:
    with pytest.raises(ValueError, match="16 hex"):
        BrewSession("../etc", "fv1", "x", T0)
    with pytest.raises(ValueError, match="empty"):
        SessionNote(T0, " \n ")
    with pytest.raises(ValueError, match="control"):
        SessionNote(T0, "bell\x07")
    assert SessionNote(T0, " a\n\tb ").text == "a\n\tb"
    with pytest.raises(ValueError, match="control"):
        SessionNote(T0, "half a pair \ud83c")
    assert brew("a1", name="Chef\u200d's \U0001f468\u200d\U0001f373 ale").name.startswith("Chef")
