"""The table's bindings (`app.slots.SLOTS`), imported: wrapper classes and the services of their roles."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

from app.config import Settings
from app.models.base import BaseModelWrapper
from app.models.roles import ROLE_CONTRACTS
from app.slot_options import SlotConfig
from app.slots import SLOTS, SlotSpec

if TYPE_CHECKING:
    from app.services.model_registry import ModelRegistry

TokenProvider = Callable[[], str | None]
WrapperFactory = Callable[[Settings, TokenProvider], BaseModelWrapper]
"""Builds a wrapper by hand, beside the declared slots (`create_app(wrapper_factories=...)`: tests)."""
SlotWrapperFactory = Callable[[Settings, TokenProvider, SlotConfig], BaseModelWrapper]


class SlotService(Protocol):
    """What the lifespan and the admin status need of a role's service."""

    def stats(self) -> dict[str, Any]: ...

    async def stop(self) -> None: ...


ServiceFactory = Callable[[Settings, "ModelRegistry"], SlotService]


def load_binding(path: str) -> Any:
    """The object a `module:attribute[.attribute]` path names."""
    module, _, attribute = path.partition(":")
    found: Any = importlib.import_module(module)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found


def wrapper_class(spec: SlotSpec, path: str | None = None) -> type[BaseModelWrapper]:
    """The slot's wrapper class (the family's, or `path`), checked against its role's contract."""
    path = path or spec.wrapper
    cls = load_binding(path)
    contract = ROLE_CONTRACTS[spec.role]
    if not (isinstance(cls, type) and issubclass(cls, contract)):
        raise TypeError(f"slot '{spec.key}': {path} is not a {contract.__name__}")
    return cls


def build_wrapper(slot: SlotConfig, settings: Settings, token_provider: TokenProvider) -> BaseModelWrapper:
    """The wrapper of a declared slot (`Settings.slots`): its family's class, or the one its options call for
    (`engine: upstream`), built with the slot's options."""
    factory = cast(SlotWrapperFactory, wrapper_class(slot.spec, slot.options.wrapper()))
    return factory(settings, token_provider, slot)


def build_services(settings: Settings, registry: ModelRegistry) -> dict[str, SlotService]:
    """One service per `state_field` of the table (slots naming the same field share it), in table order."""
    services: dict[str, SlotService] = {}
    for spec in SLOTS:
        if spec.service is None or spec.state_field is None or spec.state_field in services:
            continue
        factory = cast(ServiceFactory, load_binding(spec.service))
        services[spec.state_field] = factory(settings, registry)
    return services


def status_sections(services: dict[str, SlotService]) -> dict[str, Any]:
    """The admin status's section of each service: `{status_section: service.stats()}`."""
    sections: dict[str, Any] = {}
    for spec in SLOTS:
        if spec.status_section is not None and spec.state_field in services and spec.status_section not in sections:
            sections[spec.status_section] = services[spec.state_field].stats()
    return sections
