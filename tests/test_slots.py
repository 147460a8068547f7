"""The slot table: every binding resolves, sits in its layer and implements its role's contract; the
settings, the registry, the state and the admin status are derived from it."""

from __future__ import annotations

from app import config
from app.models.roles import ROLE_CONTRACTS
from app.services.slot_bindings import load_binding, wrapper_class
from app.slots import SLOTS, Role


def test_every_binding_resolves_in_its_layer() -> None:
    for spec in SLOTS:
        cls = wrapper_class(spec)
        assert cls.__module__.startswith("app.models.") and issubclass(cls, ROLE_CONTRACTS[spec.role])
        assert cls.role == spec.role and cls.settings_prefix == spec.settings_prefix
        if spec.service is not None:
            assert spec.service.startswith("app.services.") and callable(load_binding(spec.service))
            assert spec.state_field and spec.status_section


def test_settings_are_derived_from_the_table() -> None:
    assert config.MODEL_SLOTS == ("qwen", "canary", "pyannote", "langid", "translation", "tts", "whisper")
    assert config.DEFAULT_SLOTS == ("qwen", "canary", "pyannote")
    assert set(ROLE_CONTRACTS) == set(Role)
