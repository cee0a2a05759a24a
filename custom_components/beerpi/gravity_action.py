"""The ``report_gravity`` action: any hydrometer Home Assistant knows feeds the BeerPi.

The daemon's profile steps may end on gravity ("until SG 1.012", "stable within
0.001 for 24 h"); they read the gravity the daemon has seen. A brewer whose
hydrometer reaches Home Assistant by another integration (Tilt over Bluetooth,
an iSpindel through MQTT, RAPT, Plaato...) forwards its readings with this
action, usually through the "forward a gravity sensor" blueprint.
"""

from __future__ import annotations

from datetime import datetime

from homeassistant.const import UnitOfTemperature
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import TemperatureConverter

from .const import ATTR_CONFIG_ENTRY_ID, DOMAIN
from .helpers import call_daemon, range_placeholders, shown
from .protocol.const import PLATO_RANGE
from .protocol.numbers import sg_from_plato
from .protocol.requests import HYDROMETER_TEMPERATURE_C, ReportGravity
from .services import _coordinator
from .validation import vol

SERVICE_REPORT_GRAVITY = "report_gravity"
ATTR_GRAVITY = "gravity"
ATTR_GRAVITY_UNIT = "gravity_unit"
ATTR_TEMPERATURE = "temperature"
ATTR_HYDROMETER = "hydrometer"
ATTR_TAKEN_AT = "taken_at"
UNIT_SG = "sg"
UNIT_PLATO = "plato"
# The hydrometer's name on the daemon when the action gives none.
DEFAULT_HYDROMETER = "home-assistant"
# The daemon's keys this action names otherwise, so its refusals name the field the
# user typed ("gravity must be between 0.99 and 1.2", "taken_at is 3 h ago").
DAEMON_FIELDS = {"sg": ATTR_GRAVITY, "at": ATTR_TAKEN_AT, "temperature_c": ATTR_TEMPERATURE}

REPORT_GRAVITY_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        # The ranges are the daemon's (it says what is wrong, translated below).
        vol.Required(ATTR_GRAVITY): vol.Coerce(float),
        vol.Optional(ATTR_GRAVITY_UNIT, default=UNIT_SG): vol.In([UNIT_SG, UNIT_PLATO]),
        # None (a blueprint's template for a missing thermometer) is no temperature.
        vol.Optional(ATTR_TEMPERATURE): vol.Any(None, vol.Coerce(float)),
        vol.Optional(ATTR_HYDROMETER, default=DEFAULT_HYDROMETER): cv.string,
        vol.Optional(ATTR_TAKEN_AT): cv.datetime,
    }
)


def _taken_at(value: datetime | None) -> datetime:
    if value is None:
        return dt_util.utcnow()
    # A time without a zone is Home Assistant's local time, as in its own actions.
    return dt_util.as_utc(
        value if value.tzinfo else value.replace(tzinfo=dt_util.get_default_time_zone())
    )


async def _async_report_gravity(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call)
    gravity: float = call.data[ATTR_GRAVITY]
    plato = call.data[ATTR_GRAVITY_UNIT] == UNIT_PLATO
    # Checked here, so a brewer who gave °P is told in °P, not "sg must be between
    # 0.99 and 1.2, got 1.2109".
    if plato and not PLATO_RANGE[0] <= gravity <= PLATO_RANGE[1]:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="gravity_plato_out_of_range",
            translation_placeholders={
                "gravity": shown(gravity),
                "min": shown(PLATO_RANGE[0]),
                "max": shown(PLATO_RANGE[1]),
            },
        )
    sg = round(sg_from_plato(gravity), 5) if plato else gravity
    temperature_c = None
    if (temperature := call.data.get(ATTR_TEMPERATURE)) is not None:
        unit = call.hass.config.units.temperature_unit
        converted = TemperatureConverter.convert(temperature, unit, UnitOfTemperature.CELSIUS)
        temperature_c = round(converted, 2)
        low, high = HYDROMETER_TEMPERATURE_C
        if not low <= temperature_c <= high:
            # In the unit it was given in: the protocol's own refusal says °C.
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="hydrometer_temperature_out_of_range",
                translation_placeholders={
                    "temperature": shown(temperature),
                    **range_placeholders(low, high, unit),
                },
            )
    taken = _taken_at(call.data.get(ATTR_TAKEN_AT))
    hydrometer: str = call.data[ATTR_HYDROMETER]

    async def send() -> bool:
        # Built inside the call: a value the protocol refuses raises its InvalidArgument here.
        request = ReportGravity(
            hydrometer=hydrometer,
            sg=sg,
            at=taken.isoformat(),
            temperature_c=temperature_c,
        )
        return await coordinator.client.report_gravity(request)

    latest = await call_daemon(send(), DAEMON_FIELDS)
    return {"hydrometer": hydrometer, "sg": sg, "latest": latest}


def async_setup_gravity_action(hass: HomeAssistant) -> None:
    hass.services.async_register(
        DOMAIN,
        SERVICE_REPORT_GRAVITY,
        _async_report_gravity,
        schema=REPORT_GRAVITY_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
