"""The one way bulkops replaces a file: whole or not at all.

Snapshots (``bulkops export``), run summaries (``<results>.summary.json``) and
the sandbox's state file are each written with :func:`atomic_write`: a reader
sees the old file or the new one, never half of either, and a failure (an
exception, Ctrl-C, a cancelled task) leaves the old file as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO


@contextmanager
def atomic_write(target: Path, *, newline: str | None = None) -> Iterator[TextIO]:
    """Yield a UTF-8 text file whose content replaces ``target`` if the block succeeds.

    The file is a temporary ``.<name>.<random>.tmp`` in ``target``'s directory
    (so the rename stays on one filesystem). When the block ends normally it is
    flushed, fsynced and renamed over ``target`` with :func:`os.replace`; when the
    block raises anything (``BaseException`` included) the temporary file is
    removed, ``target`` is left untouched and the exception propagates.
    ``newline`` is passed to :func:`open` (``""`` for the :mod:`csv` module).

    The new file has mode 0600, as :func:`tempfile.mkstemp` creates it.

    Raises :class:`OSError` before the block runs when the temporary file cannot
    be created (a missing or read-only directory), and after it when the rename
    fails; ``target`` is unchanged in both cases.
    """
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp)
        raise


__all__ = ["atomic_write"]
