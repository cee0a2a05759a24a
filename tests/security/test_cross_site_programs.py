"""Class 4 (continued): the Origin checks leave programs alone and honour configured origins.

The BeerPi client, Home Assistant and a daemon dialling out send no ``Origin``
(they are not web pages): they work as before. A reverse proxy's or Home
Assistant's origin can be allowed in the config of either server.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import socketio

from beerpi_protocol.auth import Initiator, Role
from tests.support.daemon import TOKEN, running_daemon, sim_config
from tests.web.service import API_TOKEN, running_service, web_config


async def test_programs_without_origin_work_and_configured_origins_are_allowed(
    tmp_path: Path,
) -> None:
    """The BeerPi client and Home Assistant send no Origin; a proxy's origin can be allowed."""
    proxy = "https://beer.example.com"
    config = web_config(tmp_path / "web", api_token=API_TOKEN, allowed_origins=[proxy])
    daemon_config = sim_config(tmp_path / "daemon", **{"server.allowed_origins": [proxy]})
    async with (
        running_service(config) as service,
        running_daemon(daemon_config) as daemon,
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {API_TOKEN}"}) as http,
    ):
        url = f"{service.url}/api/devices/nobody/thermostat"
        body = {"mode": "off"}
        # No Origin, JSON: a program. Reaches the hub (the device is unknown: 404).
        async with http.post(url, json=body) as response:
            assert response.status == 404
        async with http.post(url, json=body, headers={"Origin": proxy}) as response:
            assert response.status == 404
        async with http.post(url, json=body, headers={"Origin": "http://evil.test"}) as response:
            assert (response.status, (await response.json())["error"]) == (403, "cross_site")
        async with http.post(url, data=json.dumps(body)) as response:  # a body, not JSON
            assert response.status == 415

        for origin, accepted in ((None, True), (proxy, True), ("http://evil.test", False)):
            headers = {} if origin is None else {"Origin": origin}
            for target, auth, namespace in (
                (service.url, {"token": API_TOKEN}, "/live"),
                # Protocol 2: the connect carries a nonce; the Origin check comes first.
                (daemon.url, Initiator(TOKEN, Role.CONTROLLER).connect_auth(), "/"),
            ):
                client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
                try:
                    await client.connect(
                        target, auth=auth, headers=headers, namespaces=[namespace],
                        transports=["websocket"], wait_timeout=5,
                    )  # fmt: skip
                    connected = True
                except socketio.exceptions.ConnectionError:
                    connected = False
                finally:
                    await client.shutdown()
                assert connected is accepted, (target, origin)
