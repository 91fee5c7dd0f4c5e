"""Which galaxy cluster a galaxy belongs to."""

__all__ = ["CLUSTERS", "cluster_of"]

CLUSTERS = ("Fornax", "Virgo")

# Fornax members without an FCC number. NGC1427a (the published galaxy for
# applying trained models) is a Fornax member too, though the published
# rule does not list it.
_FORNAX_OTHERS = frozenset({"IC2006", "NGC1340", "NGC1427a"})


def cluster_of(galaxy):
    """Return ``"Fornax"``, ``"Virgo"`` or ``None`` for a galaxy name.

    Fornax: ``FCC*``, IC2006, NGC1340 (and NGC1427a); Virgo: ``VCC*``.
    """
    name = str(galaxy)
    if name.startswith("FCC") or name in _FORNAX_OTHERS:
        return "Fornax"
    if name.startswith("VCC"):
        return "Virgo"
    return None
