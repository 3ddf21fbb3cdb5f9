"""A real uvicorn serving the app plus one route that crashes, for the keep-alive test:
``python -m tests.app.crash_server PORT`` (settings from the environment)."""

from __future__ import annotations

import sys

import uvicorn

from app.main import create_app


def main(port: int) -> None:
    app = create_app(migrate_on_start=False)

    def crash() -> None:
        raise RuntimeError("a bug in a handler")

    app.add_api_route("/test-crash", crash)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="critical")


if __name__ == "__main__":
    main(int(sys.argv[1]))
