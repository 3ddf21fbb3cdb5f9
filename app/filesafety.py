"""The data folder and database files hold PIN hashes, full resident ID numbers, encrypted
keys and the master key: nobody but the service's own user may read them.

Checked at every start: the data folder must be 0700, the SQLite database (and its -wal and
-shm files) and the master key file 0600. In development a wrong mode is fixed with a
warning; in production the service refuses to start (somebody changed it on purpose or by
mistake, and an operator should look). A new SQLite file is created 0600 before SQLite opens
it, so SQLite's own -wal/-shm files inherit that mode.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from app.settings import InsecureSettingsError, Settings

log = logging.getLogger("eseal.files")

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def prepare_data_folder(settings: Settings) -> None:
    """Create what is missing with safe modes, then check (and fix or refuse) what exists."""
    settings.data_dir.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    database = sqlite_path(settings)
    if database is not None and not database.exists():
        database.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    wanted: list[tuple[Path, int]] = [(settings.data_dir, FOLDER_MODE)]
    if database is not None:
        wanted += [(Path(f"{database}{suffix}"), FILE_MODE) for suffix in ("", "-wal", "-shm")]
    wanted.append((settings.resolved_master_key_file, FILE_MODE))
    problems = [_check(path, mode, settings) for path, mode in wanted]
    refused = [p for p in problems if p]
    if refused:
        raise InsecureSettingsError("refusing to start in production: " + "; ".join(refused))


def _check(path: Path, mode: int, settings: Settings) -> str | None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if current & 0o077 == 0:
        return None
    problem = f"{path} is mode {current:04o}; it must be {mode:04o}"
    if settings.environment == "production":
        return problem
    path.chmod(mode)
    log.warning(
        "%s: changed to %04o (development mode fixes this; production refuses)", problem, mode
    )
    return None
