"""Problems that say what to do, in the reader's language: every problem type the service can
raise has a Chinese and an English title and detail; the Chinese text holds no untranslated
English sentence and no internal id; the API chooses by Accept-Language and names the seal by
its name and code."""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

import app as app_package
import pki as pki_package
import seals as seals_package
from app import errors as app_errors
from app.problem_texts import TEXTS, localise, negotiate
from pki.errors import PkiError
from seals.errors import SealError
from tests.conftest import auth
from tests.seals_registry.util import Org, make_org, problem_code, use_check

ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'’]+[A-Za-z]{2,}){2,}")
"""Three English words in a row: an untranslated phrase (commands, headers and names such as
`eseal init`, `Authorization`, `application/pdf` are single tokens or pairs)."""
INTERNAL_ID = re.compile(r"\b(?=[0-9a-f]*[a-f])[0-9a-f]{12,}\b")  # uuid4().hex ids
CJK = re.compile(r"[\u4e00-\u9fff]")
SEAL = {"seal_name": "杭州青禾科技有限公司合同专用章", "seal_code": "3301060012345"}
CONTEXT = {**SEAL, "attempts_left": 3, "locked_until": "2026-05-01T06:30:00+00:00"}


def _raised_codes() -> set[str]:
    """Every code an error class of app/, seals/ or pki/ carries, plus the HTTP-level ones."""
    for package in (app_package, seals_package, pki_package):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in module.name and not module.name.endswith("__main__"):
                importlib.import_module(module.name)

    def subclasses(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    codes = {
        str(cls.code)
        for base in (app_errors.AppError, SealError, PkiError)
        for cls in {base, *subclasses(base)}
    }
    return (
        codes
        | set(app_errors.CODE_BY_HTTP_STATUS.values())
        | {
            "invalid-input",
            "conflict",
            "internal-error",
            "http-error",
        }
    )


def test_every_problem_type_has_a_chinese_and_an_english_text() -> None:
    missing = sorted(_raised_codes() - TEXTS.keys())
    assert not missing, f"add these codes to app/problem_texts.py TEXTS: {missing}"


@pytest.mark.parametrize("code", sorted(TEXTS))
@pytest.mark.parametrize("context", [CONTEXT, {}], ids=["with-seal", "bare"])
def test_each_text_renders_in_both_languages(code: str, context: dict[str, Any]) -> None:
    zh = localise(code, 400, "zh-CN", app_errors.problem_context("zh-CN", context))
    en = localise(code, 400, "en", app_errors.problem_context("en", context))
    for text in (zh.title, zh.detail):
        assert CJK.search(text), text
        assert not ENGLISH_SENTENCE.search(text), f"{code}: untranslated English in {text!r}"
        assert not INTERNAL_ID.search(text), text
    for text in (zh.title, zh.detail, en.title, en.detail):
        assert "{" not in text and "None" not in text, text
    assert not CJK.search(en.title), en.title
    if "{seal}" in TEXTS[code].zh_hint and context:
        assert SEAL["seal_name"] in zh.detail and SEAL["seal_code"] in zh.detail
        assert SEAL["seal_code"] in en.detail


def test_the_language_is_negotiated_by_weight() -> None:
    assert negotiate("zh-CN,zh;q=0.9,en;q=0.8") == "zh-CN"
    assert negotiate("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert negotiate("en;q=0.5, zh-TW") == "zh-CN"
    assert negotiate("fr-FR") is None and negotiate(None) is None and negotiate("") is None
    assert negotiate("fr, *;q=0.1") == "zh-CN"
    assert negotiate("zh;q=0, en") == "en"


@pytest.fixture()
def org(client: TestClient, new_org: Any, org_key: Any, platform_key: str) -> Org:
    return make_org(client, new_org, org_key, platform_key)


def test_a_refusal_in_chinese_names_the_seal_and_whom_to_ask(client: TestClient, org: Org) -> None:
    seal = org.seal("contract")
    signer_id, signer = org.key("seals:use")
    url = f"/api/v1/seals/{seal['id']}/use-check"
    body = {"document_sha256": "ab" * 32}

    plain = client.post(url, json=body, headers=auth(signer))
    assert problem_code(plain) == "seal-grant-missing"
    assert "grant" in plain.json()["detail"]  # no Accept-Language: the technical sentence

    zh = client.post(url, json=body, headers={**auth(signer), "Accept-Language": "zh-CN"})
    problem = zh.json()
    assert zh.status_code == 403 and problem_code(zh) == "seal-grant-missing"
    assert zh.headers["content-language"] == "zh-CN"
    assert problem["title"] == "没有该印章的用印授权"
    assert seal["name"] in problem["detail"] and seal["code"] in problem["detail"]
    assert "印章管理员" in problem["detail"] and "申请" in problem["detail"]
    assert signer_id not in problem["detail"] and seal["id"] not in problem["detail"]
    assert not ENGLISH_SENTENCE.search(problem["detail"])
    assert problem["details"] == plain.json()["detail"]  # the technical sentence is kept

    en = client.post(url, json=body, headers={**auth(signer), "Accept-Language": "en-GB"})
    assert en.json()["title"] == "No grant for this seal"
    assert seal["code"] in en.json()["detail"] and signer_id not in en.json()["detail"]


def test_wrong_pin_and_lock_say_how_many_tries_and_when_it_unlocks(
    client: TestClient, org: Org
) -> None:
    person = org.member("赵敏")
    seal = org.seal("personal", person_id=person)
    portal_id, portal = org.key("seals:use", "seals:write")
    org.grant(seal["id"], "client", portal_id)
    client.put(f"/api/v1/seals/{seal['id']}/pin", json={"pin": "602913"}, headers=auth(portal))
    zh = {"Accept-Language": "zh-CN"}
    wrong = client.post(
        f"/api/v1/seals/{seal['id']}/use-check",
        json={"document_sha256": "cd" * 32, "pin": "000001"},
        headers={**auth(portal), **zh},
    )
    assert problem_code(wrong) == "seal-pin-wrong"
    assert "还可再试 4 次" in wrong.json()["detail"] and seal["code"] in wrong.json()["detail"]
    for _ in range(4):
        locked = use_check(client, portal, seal["id"], "x", pin="000001")
    assert problem_code(locked) == "seal-locked"
    again = client.post(
        f"/api/v1/seals/{seal['id']}/use-check",
        json={"document_sha256": "cd" * 32, "pin": "602913"},
        headers={**auth(portal), **zh},
    )
    detail = again.json()["detail"]
    assert problem_code(again) == "seal-locked" and "自动解锁" in detail
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+08:00\)", detail), detail
