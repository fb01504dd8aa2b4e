"""Files written whole or not at all, JSON read back with one clear error, and why a file cannot be written.

Every writer of the project writes under a temporary name beside the target (same directory,
so the rename cannot cross filesystems; same extension, since writers such as OpenCV and
matplotlib choose the format by it) and renames it into place only once the file is
complete. A reader never sees half a file, and a failed write leaves what was there before.

    with atomic_path("out/report.png") as tmp:
        fig.savefig(tmp)
    write_json("out/results.json", results)
"""
from __future__ import annotations

import errno
import json
import os
import resource
from contextlib import contextmanager


def partial_path(path: str) -> str:
    """The temporary name ``path`` is written under: ``.<name>.partial<ext>`` in the same directory."""
    head, tail = os.path.split(path)
    return os.path.join(head, f".{tail}.partial{os.path.splitext(tail)[1]}")


@contextmanager
def atomic_path(path: str):
    """Yield a temporary path to write; on a clean exit it replaces ``path``, on an exception it is removed.

    When nothing was written to the temporary path, ``path`` is left as it was."""
    tmp = partial_path(path)
    try:
        yield tmp
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    if os.path.exists(tmp):
        os.replace(tmp, path)


def write_text(path: str, text: str) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)


def write_json(path: str, data) -> None:
    """``data`` as indented JSON with a final newline, written atomically."""
    write_text(path, json.dumps(data, indent=2) + "\n")


def read_json(path: str, what: str, error: type[Exception] | None = None):
    """The JSON in ``path``; ``error`` (default ConfigError) naming the file and ``what`` it should hold when it
    cannot be read or parsed."""
    from metta.errors import ConfigError

    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise (error or ConfigError)(f"{path}: unreadable {what} ({err}); expected a JSON file") from None


# the errors of a write that the disk refused (full, read-only, too big, over quota, not allowed)
WRITE_ERRNOS = (errno.ENOSPC, errno.EROFS, errno.EFBIG, errno.EDQUOT, errno.EACCES)


def write_problem(folder: str, needed: int) -> str | None:
    """Why a file of ``needed`` bytes cannot be written in ``folder``, when the filesystem says: None otherwise."""
    try:
        st = os.statvfs(folder)
    except OSError as err:
        return err.strerror
    if st.f_flag & os.ST_RDONLY:
        return "the filesystem is read-only"
    free = st.f_bavail * st.f_frsize
    if free < needed:
        return f"no space left on the device ({free:,} bytes free, a checkpoint takes about {needed:,})"
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit != resource.RLIM_INFINITY and limit < needed:
        return f"the file size limit (ulimit -f) is {limit:,} bytes, a checkpoint takes about {needed:,}"
    if not os.access(folder, os.W_OK):
        return "it is not writable"
    return None
