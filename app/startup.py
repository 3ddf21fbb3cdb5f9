"""Start-up checks that turn an unusable data folder or database into one clear line and a
non-zero exit, instead of an alembic traceback."""

from __future__ import annotations

import os
import tempfile

from sqlalchemy.exc import SQLAlchemyError

from app.settings import Settings


class StartupError(Exception):
    """The service cannot start; the message is the one line to print."""


def check_data_dir(settings: Settings) -> None:
    """The data folder exists (created if needed) and a file can be written in it."""
    folder = settings.data_dir
    if folder.exists() and not folder.is_dir():
        raise StartupError(f"the data folder {folder} is not usable: it is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StartupError(f"the data folder {folder} is not usable: {reason}") from exc


def describe(error: BaseException, settings: Settings) -> str:
    """One line for an error met while preparing the data folder or the database."""
    if isinstance(error, StartupError):
        return str(error)
    if isinstance(error, SQLAlchemyError):
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        where = "the SQLite database" if settings.is_sqlite else "the database"
        return f"{where} is not usable: {reason}"
    if isinstance(error, OSError):
        return f"the data folder {settings.data_dir} is not usable: {error.strerror or error}"
    return f"cannot start: {error}"
