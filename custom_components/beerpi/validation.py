"""The schema library, named ``vol`` on every supported Home Assistant.

Home Assistant 2026 validates with probatio and aliases ``voluptuous`` to it at
run time; 2025.4 has only voluptuous. Type checking runs against current Home
Assistant, so it must see probatio's types.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import probatio as vol
else:
    import voluptuous as vol

__all__ = ["vol"]
