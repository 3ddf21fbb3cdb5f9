"""The bulk hex-string and name readers give pyhanko's result (or error) on any input."""

from __future__ import annotations

import random
from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStreamError

from seals.verification.lexing import (
    pyhanko_read_hex_string,
    pyhanko_read_until_delimiter,
    read_hex_string,
    read_until_delimiter,
)


def both(data: bytes) -> tuple[object, object]:
    """(value or error type, position after) for pyhanko's reader and ours."""
    answers = []
    for reader in (pyhanko_read_hex_string, read_hex_string):
        stream = BytesIO(data)
        try:
            value: object = reader(stream)
        except PdfStreamError as exc:
            value = (PdfStreamError, str(exc))
        answers.append((value, type(value), stream.tell()))
    return answers[0], answers[1]


@pytest.mark.parametrize(
    "data",
    [
        b"<>",
        b"<41>",
        b"<4>",
        b"<414>",
        b"<41 42\n43\r\t\x0044\x0c>",
        b"<feff004100420043> trailing",
        b"<4142 % a comment with > inside\n4344>",
        b"<41x2>",
        b"<41<42>",
        b"<4142",
        b"<",
        b"<" + b"ab" * 70000 + b">",
        b"<" + b"00" * 40000 + b" >",
    ],
)
def test_same_result_as_pyhanko(data: bytes) -> None:
    theirs, ours = both(data)
    assert ours == theirs


def test_same_result_on_random_input() -> None:
    rng = random.Random(12)
    alphabet = b"0123456789abcdefABCDEF \n\r\t\x00\x0c%>x<"
    for _ in range(2000):
        body = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        data = b"<" + body + rng.choice([b">", b"", b"> 1 0 R"])
        theirs, ours = both(data)
        assert ours == theirs, data


def test_names_read_as_pyhanko_reads_them() -> None:
    rng = random.Random(13)
    alphabet = b"ABCdef#20/()<>[]{}% \n\r\t\x00\x0c0123456789\xe4"
    cases = [b"", b"Type", b"Type/Page", b"Type /Page", b"Contents<00>", b"A" * 300]
    cases += [
        bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 300))) for _ in range(3000)
    ]
    for data in cases:
        answers = []
        for reader in (pyhanko_read_until_delimiter, read_until_delimiter):
            stream = BytesIO(b"/" + data)
            stream.read(1)
            answers.append((reader(stream), stream.tell()))
        assert answers[1] == answers[0], data


def test_object_parser_uses_both() -> None:
    import seals.verification.reader  # noqa: F401 - installs them

    assert generic.read_until_delimiter is read_until_delimiter
    assert generic.read_hex_string_from_stream is read_hex_string
    parsed = generic.read_object(BytesIO(b"/Contents#20x "), container_ref=generic.NullObject())
    assert parsed == "/Contents x"


def test_object_headers_and_names_read_as_pyhanko_reads_them() -> None:
    from pyhanko.pdf_utils import misc
    from pyhanko.pdf_utils.misc import PdfReadError

    import seals.verification.reader  # noqa: F401 - installs them
    from seals.verification.lexing import (
        decode_name,
        pyhanko_decode_name,
        pyhanko_read_until_whitespace,
        read_until_whitespace,
    )

    rng = random.Random(14)
    alphabet = b"0123456789 obj\n\r\t\x00\x0c<</>#2041z\xe4"
    for _ in range(3000):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 300)))
        answers = []
        for reader in (pyhanko_read_until_whitespace, read_until_whitespace):
            stream = BytesIO(data)
            answers.append((reader(stream), stream.tell()))
        assert answers[1] == answers[0], data
        name = data[: rng.randrange(0, 12)]
        results = []
        for decode in (pyhanko_decode_name, decode_name, decode_name):  # computed, remembered
            try:
                results.append(("ok", decode(name)))
            except PdfReadError as exc:
                results.append(("error", str(exc)))
        assert results[1] == results[0] and results[2] == results[0], name
    assert misc.read_until_whitespace is read_until_whitespace
    assert generic._decode_name is decode_name


def test_the_reader_gives_each_revision_its_written_refs_once() -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader

    from seals.verification.reader import SpecReader
    from tests.support.documents import contract_pdf

    pdf = contract_pdf(1, title="合同", paragraphs=("甲方。",))
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    writer.root["/Lang"] = generic.TextStringObject("zh-CN")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    updated = out.getvalue()
    ours, plain = SpecReader(BytesIO(updated)), PdfFileReader(BytesIO(updated))
    assert ours.xrefs.total_revisions == 2
    for revision in range(2):
        written = ours.xrefs.explicit_refs_in_revision(revision)
        assert written == plain.xrefs.explicit_refs_in_revision(revision)
        assert ours.xrefs.explicit_refs_in_revision(revision) is written  # built once
