"""How many CPU cores this process may use."""

import os

__all__ = ["usable_cpus"]


def usable_cpus():
    """The cores this process may run on (its affinity), not all the machine's.

    A container or ``taskset`` often allows fewer cores than ``os.cpu_count()``
    reports; starting more workers than that only makes them wait for each
    other.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
