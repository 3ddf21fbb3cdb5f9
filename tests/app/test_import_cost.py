"""The service's restart window is mostly Python imports (issue 11): `import app.main` must not
load the libraries only a few routes use. pyhanko (signing runs in seal workers; the
verification stack loads on the first verification), fpdf (templates load it to render) and
alembic (loaded to migrate) cost about a second of CPU together at every start; python-pkcs11
only serves a token key store."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pyhanko", "fpdf", "fontTools", "aiohttp", "alembic", "pkcs11")


def test_importing_the_app_loads_no_heavy_library_a_few_routes_use() -> None:
    code = (
        "import json, sys; import app.main; "
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    assert json.loads(loaded.splitlines()[-1]) == []
