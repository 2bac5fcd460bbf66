"""Output paths, checked before the first record and reported in one line when they fail.

Every file or folder a run writes (metrics, dead letters, predictions,
``--save``, ``--out``, checkpoints) is created and tried for writing before the
source is read: a bad path fails in a second with exit code 2 instead of after
the whole stream. A write that fails later (a full disk, a file size limit)
stops the run with :class:`OutputError` (exit code 4), naming the path; the
last checkpoint stays valid.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from streamlearn.errors import ConfigError, StreamlearnError

__all__ = [
    "Output",
    "OutputError",
    "check_file",
    "check_folder",
    "check_outputs",
    "os_reason",
    "output_failed",
]

OutputKind = Literal["file", "folder"]
#: ``(what, path, kind)``: ``what`` names the output for messages ("--metrics-json")
Output = tuple[str, "str | Path", OutputKind]


class OutputError(StreamlearnError):
    """An output could not be written during a run (exit code 4)."""

    exit_code = 4


def os_reason(exc: OSError, path: str | Path) -> str:
    """Why ``exc`` happened on ``path``, in words (a parent that is a file is named).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "a").write_text("x")
    1
    >>> try:
    ...     (d / "a" / "b").mkdir(parents=True)
    ... except OSError as exc:
    ...     print(os_reason(exc, d / "a" / "b").replace(str(d), "D"))
    D/a is a file, not a folder
    """
    p = Path(path)
    for parent in reversed(p.parents):
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file, not a folder"
    code = exc.errno
    if code == errno.EISDIR or (p.is_dir() and code in (errno.EEXIST, errno.EISDIR)):
        return f"{p} is a folder, not a file"
    if code == errno.EEXIST and p.exists() and not p.is_dir():
        return f"{p} is a file, not a folder"
    words = {
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "read-only file system",
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EFBIG: "file too large (a file size limit was reached)",
        errno.ENAMETOOLONG: "name too long",
    }
    return words.get(code or 0, exc.strerror or str(exc))


def _try_write_in(folder: Path) -> None:
    """Create and delete a temporary file in ``folder``: os.access lies to root and on NFS."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".streamlearn-probe-")
    os.close(fd)
    os.unlink(name)


def check_file(path: str | Path, what: str) -> Path:
    """Create ``path``'s folder and make sure the file can be written there.

    An existing file is kept as it is (it is replaced or appended to later).

    Raises
    ------
    ConfigError
        One line naming ``what``, the path and the reason.
    """
    p = Path(path)
    try:
        if p.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(p))
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists():
            with open(p, "ab"):
                pass
        _try_write_in(p.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write {what} {p}: {os_reason(exc, p)}") from None
    return p


def check_folder(path: str | Path, what: str) -> Path:
    """Create the folder ``path`` and make sure files can be written in it.

    Raises
    ------
    ConfigError
        One line naming ``what``, the path and the reason.
    """
    p = Path(path)
    try:
        if p.exists() and not p.is_dir():
            raise FileExistsError(errno.EEXIST, "File exists", str(p))
        p.mkdir(parents=True, exist_ok=True)
        _try_write_in(p)
    except OSError as exc:
        raise ConfigError(f"cannot write {what} into {p}: {os_reason(exc, p)}") from None
    return p


def check_outputs(outputs: Iterable[Output]) -> None:
    """Check every ``(what, path, kind)``; the first bad one raises :class:`ConfigError`."""
    for what, path, kind in outputs:
        (check_file if kind == "file" else check_folder)(path, what)


def output_failed(what: str, path: str | Path, exc: OSError) -> OutputError:
    """The one line for a write that failed during the run."""
    return OutputError(
        f"cannot write {what} {path}: {os_reason(exc, path)}; the run stopped, "
        "the last checkpoint is kept"
    )
