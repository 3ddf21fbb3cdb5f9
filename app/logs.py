"""JSON structured logs, one object a line, with the request id of the request being served."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

# Defence in depth: whatever a message carries, these never reach a log line.
_REDACTIONS = [
    (re.compile(r"esk_[0-9a-f]{12}_[A-Za-z0-9_\-]+"), "esk_***"),
    (re.compile(r"(?i)(bearer\s+)[^\s,;]+"), r"\1***"),
    (re.compile(r"\b(\d{6})(\d{8})(\d{3}[\dXx])\b"), r"\1********\3"),  # resident ID numbers
    (re.compile(r"(?i)(password|secret|master_key)(['\"]?\s*[:=]\s*)[^\s,;]+"), r"\1\2***"),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key in ("method", "path", "status", "duration_ms", "client"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def _install_request_id_factory() -> None:
    """Stamp every record with the request id current when it was made."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_eseal", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    factory._eseal = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class _ExpectedPyhankoWarning(logging.Filter):
    """B-LT signing embeds validation data we produced in process with fetching off on
    purpose; pyhanko warns about that on every signature."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "fetching is not allowed" not in record.getMessage()


def configure_logging(level: str) -> None:
    _install_request_id_factory()
    signer_log = logging.getLogger("pyhanko.sign.signers.pdf_signer")
    if not any(isinstance(f, _ExpectedPyhankoWarning) for f in signer_log.filters):
        signer_log.addFilter(_ExpectedPyhankoWarning())
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # we log requests ourselves
