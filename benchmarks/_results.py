"""Writing a benchmark's result files: to a temporary name first, then renamed.

A benchmark killed while writing (or one that fails half-way through its
report) never leaves half a result under the final name, and the last good
result stays readable until the new one is complete.
"""

from globsml._io import atomic_path


def write_text(path, text):
    """Write ``text`` to ``path`` through a temporary file in the same folder; return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path
