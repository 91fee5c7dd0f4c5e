"""Help texts that read the registries when help is shown, not when the parser is built.

Building the parser must stay cheap (``globsml mock`` should not import every
model and torch), so a help text names a registry with a placeholder that
:class:`RegistryHelpFormatter` fills in only when ``--help`` is printed.
"""

import argparse

__all__ = [
    "RegistryHelpFormatter",
    "RawRegistryHelpFormatter",
    "SETUPS_PLACEHOLDER",
    "SETUPS_AND_ALIASES_PLACEHOLDER",
    "ONE_MODEL_SETUPS_PLACEHOLDER",
]

#: Stands for every registered set-up, with its description.
SETUPS_PLACEHOLDER = "<set-ups>"
#: ... and the names that stand for several set-ups (``globsml benchmark --setups``).
SETUPS_AND_ALIASES_PLACEHOLDER = "<set-ups and aliases>"
#: Stands for the set-ups that give one model per seed (``globsml train``).
ONE_MODEL_SETUPS_PLACEHOLDER = "<one-model set-ups>"


def _setups_text(*, one_model=False, aliases=False):
    from ..experiments import SETUP_ALIASES, SETUPS

    setups = [s for s in SETUPS.values() if not one_model or s.one_model]
    text = "; ".join(f"{s.name}: {s.description}" for s in setups)
    if aliases:
        aliases = "; ".join(f"{name}: {' and '.join(members) if members else 'every set-up'}"
                            for name, members in SETUP_ALIASES.items())
        text += f"; {aliases}"
    return text


def fill_registries(text):
    """``text`` with the registry placeholders replaced by the registries' contents."""
    for placeholder, options in ((SETUPS_PLACEHOLDER, {}),
                                 (SETUPS_AND_ALIASES_PLACEHOLDER, {"aliases": True}),
                                 (ONE_MODEL_SETUPS_PLACEHOLDER, {"one_model": True})):
        if text and placeholder in text:
            text = text.replace(placeholder, _setups_text(**options))
    return text


class RegistryHelpFormatter(argparse.HelpFormatter):
    """Fills the registry placeholders of descriptions and argument help."""

    def add_text(self, text):
        super().add_text(fill_registries(text))

    def _get_help_string(self, action):
        return fill_registries(super()._get_help_string(action))


class RawRegistryHelpFormatter(RegistryHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """:class:`RegistryHelpFormatter` that keeps the description's line breaks."""
