"""Files that hold personal data or secrets, readable by their owner only (issue 18):
the SQLite database (SQLite gives its -wal, -shm and -journal the database file's
mode), the data directory, the demo mailbox, the secret files.

Directories this creates are 0700, files 0600. A directory that already exists is left
as it is (``--data-dir`` may name a folder the operator shares on purpose); a file of
ours that exists is set to 0600 again, so an installation from before this gets tight.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def private_directory(path: Path | str) -> Path:
    """``path`` and any missing parents, each one made here 0700."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIRECTORY)
        except FileExistsError:  # another process made it first
            continue
        os.chmod(folder, PRIVATE_DIRECTORY)  # mkdir's mode passes through the umask
    return path


def private_file(path: Path | str) -> Path:
    """``path`` created empty if missing, 0600 either way; its folder made as :func:`private_directory`."""
    path = Path(path)
    private_directory(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    os.chmod(path, PRIVATE_FILE)
    return path
