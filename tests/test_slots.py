"""The slot table: every binding resolves, sits in its layer and implements its role's contract; the
settings, the registry, the state and the admin status are derived from it."""

from __future__ import annotations

from app import config
from app.models.roles import ROLE_CONTRACTS
from app.services.slot_bindings import load_binding, wrapper_class
from app.slot_options import FAMILY_OPTIONS
from app.slots import SLOTS, Role


def test_every_binding_resolves_in_its_layer() -> None:
    for spec in SLOTS:
        cls = wrapper_class(spec)
        assert cls.__module__.startswith("app.models.") and issubclass(cls, ROLE_CONTRACTS[spec.role])
        assert cls.role == spec.role
        if spec.service is not None:
            assert spec.service.startswith("app.services.") and callable(load_binding(spec.service))
            assert spec.state_field and spec.status_section


def test_settings_are_derived_from_the_table() -> None:
    assert config.MODEL_SLOTS == ("qwen", "canary", "pyannote", "langid", "whisper", "translation", "tts")
    assert config.DEFAULT_SLOTS == ("qwen", "canary", "pyannote")
    assert set(ROLE_CONTRACTS) == set(Role)


def test_every_family_has_options_and_a_setting_for_each() -> None:
    """A built-in slot reads each option from its prefixed setting, whose default is the option's default (so
    a models file entry and an unset variable mean the same); the model id and aliases differ on purpose."""
    assert len({spec.family for spec in SLOTS}) == len(SLOTS) and {spec.family for spec in SLOTS} == set(FAMILY_OPTIONS)
    fields = config.Settings.model_fields
    for spec in SLOTS:
        options = FAMILY_OPTIONS[spec.family]
        for name, field in options.model_fields.items():
            variable = options.setting_of(spec.settings_prefix, name)
            if variable is None or name in ("model_id", "model_aliases"):
                continue
            setting = fields[variable.lower()]
            assert setting.get_default(call_default_factory=True) == field.get_default(call_default_factory=True), (
                f"{variable} and the `{name}` of a {spec.family} entry have different defaults"
            )
