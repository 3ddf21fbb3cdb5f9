"""The README's tour runs as written: `scripts/tour.sh` against a service this test starts
(`eseal serve` on its own data folder and database), every step answering, and the files it
produced checked by independent tools (pdfsig, qpdf) and the service's own verification."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dbutil import drop_database, fresh_database_url
from tests.support.servers import wait_until_ready

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`eseal serve` as an operator starts it; the environment the CLI must share with it."""
    base = tmp_path_factory.mktemp("tour")
    url = fresh_database_url(base)
    port = _port()
    env = {
        **os.environ,
        "ESEAL_DATA_DIR": str(base / "var"),
        "ESEAL_DATABASE_URL": url,
        "ESEAL_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ESEAL_LOG_LEVEL": "WARNING",
        # as the README says to start it: the envelope step's webhook receiver is on loopback
        "ESEAL_OUTBOUND_ALLOWED_HOSTS": '["127.0.0.1"]',
    }
    eseal = str(Path(sys.executable).parent / "eseal")
    server = subprocess.Popen(
        [eseal, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # a cold start on a loaded machine
        ready = wait_until_ready(f"http://127.0.0.1:{port}", server, seconds=300)
        assert server.poll() is None, "eseal serve stopped"
        assert ready, "eseal serve did not become ready"
        yield {**env, "ESEAL_URL": f"http://127.0.0.1:{port}", "ESEAL_CLI": eseal}
    finally:
        server.terminate()
        server.wait(timeout=30)
        drop_database(url)


def test_the_tour_runs_against_a_fresh_service(service: dict[str, str], tmp_path: Path) -> None:
    for tool in ("curl", "jq", "openssl", "pdfsig", "qpdf"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/system-deps.sh"
    out = tmp_path / "tour"
    env = {**service, "TOUR_OUT": str(out), "ESEAL_PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "tour.sh")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    steps = [line for line in done.stdout.splitlines() if line.startswith("==> ")]
    assert [s.split(".")[0] for s in steps[:14]] == [f"==> {n}" for n in range(14)], steps
    assert "TOTAL_PASSED: 验证通过" in log and "page 2" in log  # the keyword is on page 2
    assert "PIN 不正确" in log and "还可再试 4 次" in log
    assert "需要先申请用印" in log and "request approved" in log
    assert "completed: 3/3 done, 0 failed" in log
    assert "envelope completed" in log and "final document: TOTAL_PASSED, 2 seals" in log
    assert "webhook: envelope.completed  sha256=" in log and "delivered" in log
    assert "chain intact: true" in log

    for name, signatures in (("sealed.pdf", 1), ("sealed-2.pdf", 2), ("envelope.pdf", 2)):
        pdf = out / name
        check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout
        sig = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True)
        assert sig.stdout.count("Signature is Valid.") == signatures, sig.stdout


def readme_blocks() -> list[str]:
    """The shell blocks of the README from the tour up to the configuration section, minus
    the one that runs scripts/tour.sh (the test above runs it)."""
    text = (ROOT / "README.md").read_text()
    start = text.index("## The tour")
    end = text.index("## Configuration")
    blocks = re.findall(r"```sh\n(.*?)```", text[start:end], re.S)
    return [b for b in blocks if "scripts/tour.sh" not in b]


def test_the_readme_blocks_run_as_pasted(service: dict[str, str], tmp_path: Path) -> None:
    """Paste every block of the README's tour and capability sections, in order, into one
    shell: each answers, and the files they produce are sealed PDFs."""
    for name in ("examples", ".venv"):
        (tmp_path / name).symlink_to(ROOT / name)
    blocks = readme_blocks()
    assert len(blocks) >= 12, len(blocks)
    script = "\n".join(blocks).replace("URL=http://127.0.0.1:8000", f"URL={service['ESEAL_URL']}")
    checks = """
for v in ORG SEAL CODE C C_ID DOC PERSON PSEAL REQ JOB ENV PART ANCHOR; do
  [ -n "${!v}" ] && [ "${!v}" != null ] || { echo "unset: $v"; exit 1; }
done
echo "JOB_STATUS=$(curl -s $URL/api/v1/jobs/$JOB -H "Authorization: Bearer $C" | jq -r .total)"
"""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script + checks],
        env={**service, "PATH": os.environ["PATH"]},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert '"TOTAL_PASSED"' in log and '"page": 2' in log, log
    assert '"approved"' in log and '"completed"' in log and "JOB_STATUS=3" in log, log
    assert "没有该印章的用印授权" in log and "urn:eseal:problem:seal-grant-missing" in log, log
    assert '"intact":true' in log.replace(" ", ""), log
    for name, signatures in (
        ("sealed.pdf", 1),
        ("sealed-2.pdf", 2),
        ("approved.pdf", 1),
        ("generated.pdf", 1),
        ("envelope.pdf", 1),
    ):
        sig = subprocess.run(["pdfsig", str(tmp_path / name)], capture_output=True, text=True)
        assert sig.stdout.count("Signature is Valid.") == signatures, (name, sig.stdout)
