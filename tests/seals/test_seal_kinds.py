"""The seal kinds table."""

from __future__ import annotations

import pytest

from seals.kinds import KIND_SPECS, SealHolder, SealKind, SealShape, kind_spec


def test_every_kind_has_a_spec() -> None:
    assert set(KIND_SPECS) == set(SealKind)
    for kind, spec in KIND_SPECS.items():
        assert spec.kind is kind
        assert spec.label_zh and spec.label_en
        assert 0 < spec.border_mm < min(spec.width_mm, spec.height_mm) / 10


@pytest.mark.parametrize(
    ("kind", "shape", "size", "holder", "label"),
    [
        ("official", SealShape.ROUND, (42, 42), SealHolder.ORGANIZATION, "公章"),
        ("contract", SealShape.ROUND, (42, 42), SealHolder.ORGANIZATION, "合同专用章"),
        ("finance", SealShape.ROUND, (38, 38), SealHolder.ORGANIZATION, "财务专用章"),
        ("invoice", SealShape.OVAL, (40, 30), SealHolder.ORGANIZATION, "发票专用章"),
        ("legal_representative", SealShape.SQUARE, (22, 22), SealHolder.PERSON, "法定代表人名章"),
        ("personal", SealShape.SQUARE, (18, 18), SealHolder.PERSON, "个人签名章"),
    ],
)
def test_standard_forms(
    kind: str, shape: SealShape, size: tuple[int, int], holder: SealHolder, label: str
) -> None:
    spec = kind_spec(kind)
    assert (spec.shape, (spec.width_mm, spec.height_mm), spec.holder) == (shape, size, holder)
    assert spec.label_zh == label
    assert spec.has_star == (shape is SealShape.ROUND)


def test_only_personal_seals_accept_an_uploaded_image() -> None:
    assert [k for k, s in KIND_SPECS.items() if s.accepts_uploaded_image] == [SealKind.PERSONAL]


def test_kinds_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        KIND_SPECS[SealKind.OFFICIAL] = KIND_SPECS[SealKind.CONTRACT]  # type: ignore[index]
