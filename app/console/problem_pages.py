"""The console's error page in the reader's language: what went wrong, what to do next, and
a link to the page where it can be done (the seal's grants, the approvals list, sign-in)."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from app import problem_texts
from app.errors import problem_context, status_for
from seals.models import Seal

INTERNAL_ID = re.compile(r"\b[0-9a-f]{32}\b")
"""Ids (uuid4 hex) are nobody's business on a page; the technical sentence shows without."""

# problem code -> (console path, i18n key of the link). "{seal_id}" is filled when known.
FIX_PAGES: dict[str, tuple[str, str]] = {
    "seal-grant-missing": ("/console/approvals", "fix.request_use"),
    "seal-grant-outside-window": ("/console/seals/{seal_id}", "fix.seal_page"),
    "seal-grant-document-type": ("/console/seals/{seal_id}", "fix.seal_page"),
    "seal-grant-exhausted": ("/console/seals/{seal_id}", "fix.seal_page"),
    "seal-approval-required": ("/console/approvals", "fix.request_use"),
    "seal-approval-pending": ("/console/approvals", "fix.approvals"),
    "seal-approval-rejected": ("/console/approvals", "fix.approvals"),
    "seal-approval-consumed": ("/console/approvals", "fix.request_use"),
    "seal-pin-not-set": ("/console/seals/{seal_id}", "fix.set_pin"),
    "seal-pin-wrong": ("/console/sign", "fix.sign_again"),
    "seal-pin-required": ("/console/sign", "fix.sign_again"),
    "seal-locked": ("/console/seals/{seal_id}", "fix.seal_page"),
    "seal-not-active": ("/console/seals/{seal_id}", "fix.seal_page"),
    "seal-outside-validity": ("/console/seals/{seal_id}", "fix.seal_page"),
    "seal-certificate-invalid": ("/console/certificates", "fix.certificates"),
    "seal-not-found": ("/console/seals", "fix.seals"),
    "keyword-not-found": ("/console/sign", "fix.sign_again"),
    "page-out-of-range": ("/console/sign", "fix.sign_again"),
    "placement-outside-page": ("/console/sign", "fix.sign_again"),
    "not-authenticated": ("/console/login", "fix.login"),
    "envelope-revision-stale": ("", "fix.reload"),
}


def _seal(session: Session, seal_id: str | None) -> Seal | None:
    return session.get(Seal, seal_id) if seal_id else None


def explain(
    session: Session,
    error: Exception,
    *,
    lang: str,
    organization_id: str | None,
    seal_id: str | None = None,
) -> dict[str, Any]:
    """Template values of the error page: title, detail, the fixing link (or None)."""
    code = str(getattr(error, "code", "error"))
    extra = dict(getattr(error, "extra", {}) or {})
    if code == "seal-pin-wrong" and extra.get("locked_until"):
        code = "seal-locked"  # this wrong PIN was the last one
    seal_id = seal_id or getattr(error, "seal_id", None) or extra.get("seal_id")
    if "seal_code" not in extra:
        seal = _seal(session, seal_id)
        if seal is not None and seal.organization_id == organization_id:  # never another's
            extra.update(seal_code=seal.code, seal_name=seal.name)
    language: problem_texts.Lang = "en" if lang == "en" else "zh-CN"
    said = problem_texts.localise(
        code, status_for(error), language, problem_context(language, extra)
    )
    fix = FIX_PAGES.get(code)
    link = None
    if fix is not None:
        path, label = fix
        if "{seal_id}" in path:
            path = path.format(seal_id=seal_id) if seal_id else "/console/seals"
        link = {"href": path, "label": label}
    raw = str(getattr(error, "detail", "") or "")
    return {
        "title": said.title,
        "detail": said.detail,
        "fix": link,
        "code": code,
        "technical": INTERNAL_ID.sub("…", raw) if raw and raw != said.detail else None,
    }
