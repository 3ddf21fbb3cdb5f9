"""Finding 2 of issue 10: the console's change-PIN form never counted wrong current PINs
(8 wrong tries all said "4 attempts left" and the 9th replaced the owner's PIN).

Replayed on the console form: every wrong PIN is counted by the one PIN check the API uses,
the fifth locks the seal (audited), and the right PIN on the ninth try changes nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models import AuditEvent
from seals.models import Seal
from seals.pin import pin_matches
from tests.console.conftest import ConsoleOrg, csrf_of, make_console_org, make_seal


def test_nine_tries_on_the_console_change_pin_form_lock_the_seal(
    signed_in: Any, client: TestClient, platform_key: str, engine: Any
) -> None:
    org: ConsoleOrg = make_console_org(client, platform_key, "杭州猜码测试有限公司")
    owner = org.people["signer"]
    seal_id = make_seal(client, platform_key, org.id, "李娜", kind="personal", person_id=owner)[
        "id"
    ]
    signer = signed_in(org.users["signer"])
    csrf = csrf_of(signer.get(f"/console/seals/{seal_id}").text)
    first = signer.post(
        f"/console/seals/{seal_id}/pin",
        data={"csrf_token": csrf, "pin": "246810"},
        follow_redirects=False,
    )
    assert first.status_code == 303, first.text

    answers = []
    for wrong in ("135790", "135791", "135792", "135793", "135794", "135795", "135796", "135797"):
        answer = signer.post(
            f"/console/seals/{seal_id}/pin",
            data={"csrf_token": csrf, "pin": "975310", "current_pin": wrong},
            follow_redirects=False,
        )
        answers.append((answer.status_code, answer.text))
    # 4, 3, 2, 1 attempts left, then locked (423) -- and locked it stays.
    for left, (status, text) in zip((4, 3, 2, 1), answers[:4], strict=True):
        assert status == 403 and f"{left} attempts left" in text, (left, status)
    assert all(status == 423 for status, _ in answers[4:]), [s for s, _ in answers]
    ninth = signer.post(
        f"/console/seals/{seal_id}/pin",
        data={"csrf_token": csrf, "pin": "975310", "current_pin": "246810"},
        follow_redirects=False,
    )
    assert ninth.status_code == 423, ninth.text
    with Session(engine) as session:
        row = session.get(Seal, seal_id)
        assert row is not None and row.pin_hash is not None
        assert pin_matches(row.pin_hash, "246810")  # the owner's PIN was not replaced
        assert row.pin_locked_until is not None
        actions = session.exec(
            select(AuditEvent.action).where(
                AuditEvent.target_id == seal_id,
                col(AuditEvent.action).in_(["seal.pin_failure", "seal.lock"]),
            )
        ).all()
    assert actions.count("seal.pin_failure") == 5 and actions.count("seal.lock") == 1
