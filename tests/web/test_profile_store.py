"""Saved profiles in the history store: the contract, on SQLite and on MongoDB alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from beerpi_protocol.models import ProfileStep
from tests.web.test_store_contract import StoreFactory
from web_extras.store import HistoryStore, ProfileNameTaken, SavedProfile, TooManyProfiles
from web_extras.store.profiles import MAX_SAVED_PROFILES

T0 = datetime(2024, 3, 1, tzinfo=UTC)
ALE = (
    ProfileStep(kind="hold", target=19.0, hours=96.0),
    ProfileStep(kind="ramp", target=21.0, hours=24.0),
    ProfileStep(kind="hold", target=21.0, hours=72.0, until_sg=1.012),
)


def saved(pid: str, name: str = "House ale", steps: tuple[ProfileStep, ...] = ALE) -> SavedProfile:
    return SavedProfile(pid.ljust(16, "0"), name, steps, T0)


async def test_a_profile_round_trips(store: HistoryStore, make_store: StoreFactory) -> None:
    profile = saved("a1", name="Ale <b>“house”</b> 🍺")
    await store.save_profile(profile)
    assert await store.get_profile(profile.id) == profile
    reopened = make_store()
    await reopened.open()
    try:
        assert await reopened.saved_profiles() == [profile]
    finally:
        await reopened.close()
    assert await store.get_profile("f" * 16) is None


async def test_listed_by_name(store: HistoryStore) -> None:
    for pid, name in (("a1", "Lager"), ("a2", "Cold crash"), ("a3", "Ale")):
        await store.save_profile(saved(pid, name))
    assert [p.name for p in await store.saved_profiles()] == ["Ale", "Cold crash", "Lager"]


async def test_a_taken_name_is_refused_and_nothing_changes(store: HistoryStore) -> None:
    await store.save_profile(saved("a1", "Ale"))
    await store.save_profile(saved("a2", "Lager"))
    with pytest.raises(ProfileNameTaken):
        await store.save_profile(saved("a3", "Ale", ALE[:1]))
    with pytest.raises(ProfileNameTaken):
        await store.replace_profile(saved("a2", "Ale", ALE[:1]))
    assert [(p.name, len(p.steps)) for p in await store.saved_profiles()] == [
        ("Ale", 3),
        ("Lager", 3),
    ]


async def test_replace_renames_and_changes_steps(store: HistoryStore) -> None:
    await store.save_profile(saved("a1", "Ale"))
    later = T0 + timedelta(hours=1)
    new = SavedProfile(saved("a1").id, "Ale, short", ALE[:2], later)
    assert await store.replace_profile(new) == new
    # Its own name again is no clash.
    assert await store.replace_profile(new) == new
    assert await store.saved_profiles() == [new]
    assert await store.replace_profile(saved("b1", "Ghost")) is None
    assert await store.get_profile(saved("b1").id) is None


async def test_delete(store: HistoryStore) -> None:
    await store.save_profile(saved("a1", "Ale"))
    assert await store.delete_profile(saved("a1").id) is True
    assert await store.delete_profile(saved("a1").id) is False
    assert await store.saved_profiles() == []
    await store.save_profile(saved("a2", "Ale"))  # the name is free again


async def test_the_cap_holds(store: HistoryStore) -> None:
    for i in range(MAX_SAVED_PROFILES):
        await store.save_profile(saved(f"{i:04x}", f"p{i:04d}", ALE[:1]))
    with pytest.raises(TooManyProfiles):
        await store.save_profile(saved("ffff", "one more", ALE[:1]))
    assert len(await store.saved_profiles()) == MAX_SAVED_PROFILES


def test_the_record_refuses_what_a_daemon_would() -> None:
    with pytest.raises(ValueError, match="cannot be a ramp"):
        saved("a1", steps=(ProfileStep(kind="ramp", target=10.0, hours=1.0),))
    with pytest.raises(ValueError, match="target must be between"):
        saved("a1", steps=(ProfileStep(kind="hold", target=80.0, hours=1.0),))
    with pytest.raises(ValueError, match="name"):
        saved("a1", name="  ")
    with pytest.raises(ValueError, match="control characters"):
        saved("a1", name="Ale\x1b[31m")
    with pytest.raises(ValueError, match="steps must not be empty"):
        saved("a1", steps=())
