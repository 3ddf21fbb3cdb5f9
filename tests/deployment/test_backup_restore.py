"""Backup and restore with the real `eseal` commands: an installation with sealed documents is
backed up, restored into a fresh one (another blob store kind), and everything checks out:
every stored document, the audit chain, and its keys still sign."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import httpx
import pytest

from seals.documents import make_document
from seals.fonts import find_cjk_font
from tests.conftest import auth, make_uscc
from tests.dbutil import drop_database, fresh_database_url, on_postgres
from tests.instances import Installation, agency_with_seal, expect, wait_job
from tests.seals_templates.samples import licence_json


def _installation(root: Path, blob_store: str, pki_port: int | None = None) -> Installation:
    root.mkdir()
    made = Installation(
        database_url=fresh_database_url(root), root=root, master_key=None, blob_store=blob_store
    )
    if pki_port:
        made.pki_port = pki_port
    return made


def _contract() -> bytes:
    font = find_cjk_font()
    return make_document(
        title="采购合同", paragraphs=["合同金额：人民币贰拾万元整。"], pages=1,
        font_path=font.path, font_number=font.index,
    )  # fmt: skip


def _verify(api: httpx.Client, pdf: bytes) -> str:
    return str(expect(api.post("/api/v1/verify", content=pdf))["indication"])


def test_backup_then_restore_into_a_fresh_installation(tmp_path: Path) -> None:
    source = _installation(tmp_path / "source", "local")
    # into the other blob store kind where it exists (the database store needs PostgreSQL)
    target_store = "database" if on_postgres() else "local"
    target = _installation(tmp_path / "target", target_store, pki_port=source.pki_port)
    try:
        _round_trip(source, target, tmp_path)
    finally:
        drop_database(source.database_url)
        drop_database(target.database_url)


def _round_trip(source: Installation, target: Installation, tmp_path: Path) -> None:
    source.run("init", name="A")
    platform = source.platform_key(name="A")
    with (
        source.serve("A", source.pki_port) as base,
        httpx.Client(base_url=base, timeout=120) as api,
    ):
        _, seal_id, key = agency_with_seal(api, platform)
        records = [licence_json(name=f"分公司{i}", uscc=make_uscc()) for i in range(3)]
        job = expect(
            api.post(
                "/api/v1/jobs",
                json={"template": "business-licence", "seal_id": seal_id, "level": "B-T",
                      "records": records},
                headers=auth(key),
            ),
            202,
        )  # fmt: skip
        assert wait_job(api, key, job["id"])["done"] == 3
        done = expect(api.get(f"/api/v1/jobs/{job['id']}/records", headers=auth(key)))
        originals = {r["document_url"]: api.get(r["document_url"], headers=auth(key)).content
                     for r in done}  # fmt: skip

    folder = tmp_path / "backup"
    out = source.run("backup", str(folder), "--include-master-key", name="A")
    assert "3 documents" in out or "documents" in out, out
    assert (folder / "keys.json").stat().st_mode & 0o077 == 0

    damaged = tmp_path / "damaged"
    shutil.copytree(folder, damaged)
    with gzip.open(damaged / "database.jsonl.gz", "rt") as handle:
        text = handle.read()
    assert "分公司1" in text  # the damage below must change the content, not only the gzip header
    with gzip.open(damaged / "database.jsonl.gz", "wt") as handle:
        handle.write(text.replace("分公司1", "分公司9"))
    code, said = target.attempt("restore", str(damaged), name="A")
    assert code == 2 and "does not match the manifest" in said, said

    said = target.run("restore", str(folder), name="A")
    assert "audit chain intact" in said and "match their hashes" in said, said
    assert (target.root / "A" / "master.key").stat().st_mode & 0o777 == 0o600
    assert "audit chain intact" in target.run("audit", "verify", name="A")
    code, said = target.attempt("restore", str(folder), name="A")
    assert code == 2 and "not empty" in said, said

    with (
        target.serve("A", target.pki_port) as base,
        httpx.Client(base_url=base, timeout=120) as api,
    ):
        for url, pdf in originals.items():
            restored = api.get(url, headers=auth(key))  # the API key survived too
            assert restored.status_code == 200 and restored.content == pdf
            assert _verify(api, restored.content) == "TOTAL_PASSED"
        again = api.post(
            f"/api/v1/seals/{seal_id}/sign",
            files={"file": ("x.pdf", _contract(), "application/pdf")},
            data={"placement": '{"type": "invisible"}', "level": "B-T"},
            headers=auth(key),
        )
        assert again.status_code == 200, again.text  # the restored keys unlock and sign
        assert _verify(api, again.content) == "TOTAL_PASSED"


def test_restore_refuses_another_master_key(tmp_path: Path) -> None:
    source = _installation(tmp_path / "source", "local")
    other = _installation(tmp_path / "other", "local")
    try:
        source.run("init", name="A")
        source.run("backup", str(tmp_path / "b"), "--include-master-key", name="A")
        other.run("init", name="A")  # its own master key file
        code, said = other.attempt("restore", str(tmp_path / "b"), name="A")
        assert code == 2 and "not the backup's" in said, said
    finally:
        drop_database(source.database_url)
        drop_database(other.database_url)


@pytest.mark.parametrize("include", [False])
def test_backup_without_the_master_key_says_so(tmp_path: Path, include: bool) -> None:
    source = _installation(tmp_path / "source", "local")
    try:
        source.run("init", name="A")
        out = source.run("backup", str(tmp_path / "b"), name="A")
        assert "master key NOT included" in out
        assert '"master_key": null' in (tmp_path / "b" / "keys.json").read_text()
    finally:
        drop_database(source.database_url)
