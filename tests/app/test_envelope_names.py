"""Envelope revisions download under names of their own (not three files of one name)."""

from __future__ import annotations


def test_envelope_revisions_download_under_names_of_their_own() -> None:
    from app.api.envelopes import revision_filename

    names = [revision_filename("采购合同.pdf", n, final=False) for n in (0, 1)]
    names.append(revision_filename("采购合同.pdf", 2, final=True))
    assert names == ["采购合同-原件.pdf", "采购合同-第1版.pdf", "采购合同-最终版.pdf"]
