"""zeroconf: what is announced, and where."""

from __future__ import annotations

from beerpi_protocol import PROTOCOL_VERSION, DeviceInfo
from pi_daemon.advertise import SERVICE_TYPE, Advertiser, advertise_addresses, service_properties


def test_service_type_matches_the_integration_manifest() -> None:
    assert SERVICE_TYPE == "_beerpi._tcp.local."


def test_txt_record_identifies_the_device_without_secrets() -> None:
    props = service_properties(DeviceInfo(id="beerpi-1234", name="Garage"))
    assert props["id"] == "beerpi-1234"
    assert props["protocol"] == PROTOCOL_VERSION == "2.2"
    assert not any("token" in key for key in props)


def test_addresses_follow_the_listen_host() -> None:
    assert advertise_addresses("0.0.0.0") is None
    assert advertise_addresses("127.0.0.1") == []
    assert advertise_addresses("localhost") == []
    assert advertise_addresses("192.0.2.7") == ["192.0.2.7"]


async def test_a_loopback_daemon_does_not_advertise() -> None:
    advertiser = Advertiser(DeviceInfo(id="x"), "127.0.0.1", 8765)
    await advertiser.start()
    await advertiser.stop()
