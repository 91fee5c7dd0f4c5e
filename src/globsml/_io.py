"""Small I/O helpers shared by every subpackage."""

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_path"]


def _umask():
    umask = os.umask(0)  # the only way to read it is to set it
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_path(path, *, suffix=None):
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    Nothing is ever left half-written under the final name: if the block
    raises (or the process dies) the final file is untouched and the
    temporary one is removed (or, after a hard kill, left as ``.*.tmp``).

    Parameters
    ----------
    path : str or Path
        The final file name.
    suffix : str, optional
        Suffix of the temporary file (defaults to that of ``path``, so
        that writers that look at the extension keep working).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if tmp.is_file():  # mkstemp makes it private (0600); an output is as readable as any file the user writes
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
