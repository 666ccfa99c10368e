"""Write a run's outputs all or nothing.

Outputs are written into a temporary folder beside the final one and moved into place only
when the whole run has succeeded. A failed run leaves the previous run's outputs exactly as
they were, and never a half-written or mixed set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from siteplan.errors import OutputError


@contextmanager
def staged_output_dir(final_dir: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``final_dir`` only if the block succeeds.

    Parameters
    ----------
    final_dir : str or Path
        Where the outputs must end up (e.g. ``outputs/guangyuan-default``).

    Yields
    ------
    Path
        An empty folder on the same file system as ``final_dir``; write every output here.

    Raises
    ------
    OutputError
        The parent folder cannot be created or the final move fails (the previous outputs
        are restored).

    Notes
    -----
    The swap is two renames on one file system: the old folder moves aside, the new one
    moves in, the old one is deleted. If the second rename fails, the old folder is put
    back. On any exception inside the block the temporary folder is deleted and the
    exception propagates; ``final_dir`` is untouched.
    """
    final_dir = Path(final_dir).resolve()
    try:
        final_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create output folder {final_dir.parent}: {e}") from None
    tmp = Path(tempfile.mkdtemp(prefix=f".{final_dir.name}.partial-", dir=final_dir.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; outputs are meant to be shared
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = final_dir.parent / f".{final_dir.name}.old-{os.getpid()}"
    had_old = final_dir.exists()
    try:
        if had_old:
            os.replace(final_dir, old)
        os.replace(tmp, final_dir)
    except OSError as e:
        if had_old and old.exists() and not final_dir.exists():
            os.replace(old, final_dir)
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"could not move outputs into {final_dir}: {e}") from None
    if had_old:
        shutil.rmtree(old, ignore_errors=True)
