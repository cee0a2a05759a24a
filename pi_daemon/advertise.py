"""zeroconf advertisement of ``_beerpi._tcp.local.``, so Home Assistant discovers the daemon."""

from __future__ import annotations

import ipaddress
import logging
import socket

from beerpi_protocol import PROTOCOL_VERSION, DeviceInfo

from . import __version__

_LOGGER = logging.getLogger(__name__)
SERVICE_TYPE = "_beerpi._tcp.local."


def service_properties(device: DeviceInfo) -> dict[str, str]:
    """TXT record: enough to recognise the device; never the token."""
    return {
        "id": device.id,
        "name": device.name,
        "version": __version__,
        "protocol": PROTOCOL_VERSION,
    }


def advertise_addresses(host: str) -> list[str] | None:
    """Addresses to announce for a listen host; None means every interface, [] means none."""
    if host in ("", "0.0.0.0", "::"):
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = ipaddress.ip_address(socket.gethostbyname(host))
    # mDNS cannot leave the loopback interface: nobody else could connect anyway.
    return [] if address.is_loopback else [str(address)]


class Advertiser:
    def __init__(self, device: DeviceInfo, host: str, port: int) -> None:
        self._device = device
        self._host = host
        self._port = port
        self._zeroconf: object | None = None
        self._info: object | None = None

    async def start(self) -> None:
        addresses = advertise_addresses(self._host)
        if addresses == []:
            _LOGGER.info("zeroconf: not advertising a loopback-only daemon")
            return
        from zeroconf import InterfaceChoice, IPVersion, get_all_addresses  # type: ignore[attr-defined]
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

        if addresses is None:
            addresses = [a for a in get_all_addresses() if not a.startswith("127.")]
            interfaces: list[str] | InterfaceChoice = InterfaceChoice.All
        else:
            interfaces = addresses
        if not addresses:
            _LOGGER.info("zeroconf: no network address to advertise")
            return
        zc = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        info = AsyncServiceInfo(
            SERVICE_TYPE,
            f"{self._device.name} {self._device.id}.{SERVICE_TYPE}",
            port=self._port,
            properties=service_properties(self._device),
            server=f"{socket.gethostname()}.local.",
            parsed_addresses=addresses,
        )
        try:
            await zc.async_register_service(info, allow_name_change=True)
        except Exception as err:  # no multicast route, name clash...: the daemon runs on
            _LOGGER.warning("zeroconf advertisement failed: %s", err)
            await zc.async_close()
            return
        self._zeroconf, self._info = zc, info
        _LOGGER.info("zeroconf: advertising %s on port %d", SERVICE_TYPE, self._port)

    async def stop(self) -> None:
        zc, info = self._zeroconf, self._info
        self._zeroconf = self._info = None
        if zc is None or info is None:
            return  # nothing was advertised: zeroconf was never imported, nor is it now
        from zeroconf.asyncio import AsyncZeroconf

        if isinstance(zc, AsyncZeroconf):
            await zc.async_unregister_service(info)  # type: ignore[arg-type]
            await zc.async_close()
