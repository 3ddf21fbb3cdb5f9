"""The one entry point that signs a document in the format a `SealingSpec` asks for.

Each `SignatureFormat` has its module beside this one (`pades.py`, `sm2cms.py`,
`gbt38540.py`); the module is imported only when its format is used.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from seals.errors import UnsupportedFormatError
from seals.signing import loop
from seals.signing.spec import (
    SealingSpec,
    SignatureFormat,
    SignedPdf,
    SigningIdentity,
    ValidationMaterial,
)


class SignFunction(Protocol):
    """What every format module offers: `sign_pdf` with this signature."""

    def __call__(
        self,
        *,
        pdf: bytes,
        identity: SigningIdentity | Any,
        spec: SealingSpec,
        timestamper: Any | None = None,
        validation: ValidationMaterial | None = None,
    ) -> SignedPdf: ...


def blocking(async_sign: Callable[..., Coroutine[Any, Any, SignedPdf]]) -> SignFunction:
    """The `SignFunction` of a format module's ``async_sign_pdf`` (same arguments): it runs
    on this thread's event loop (`loop.run`), so call it from synchronous code only."""

    def sign_pdf(**arguments: Any) -> SignedPdf:
        return loop.run(async_sign(**arguments))

    sign_pdf.__doc__ = f"The blocking form of `{async_sign.__module__}.async_sign_pdf`."
    return sign_pdf


def _pades() -> SignFunction:
    from seals.signing.pades import sign_pdf

    return sign_pdf


def _sm2_cms() -> SignFunction:
    from seals.signing.sm2cms import sign_pdf

    return sign_pdf


def _gbt38540() -> SignFunction:
    from seals.signing.gbt38540 import sign_pdf

    return sign_pdf


_MODULES: dict[SignatureFormat, Callable[[], SignFunction]] = {
    SignatureFormat.PADES: _pades,
    SignatureFormat.SM2_CMS: _sm2_cms,
    SignatureFormat.GBT38540: _gbt38540,
}


def sign_document(
    *,
    pdf: bytes,
    identity: SigningIdentity | Any,
    spec: SealingSpec,
    timestamper: Any | None = None,
    validation: ValidationMaterial | None = None,
) -> SignedPdf:
    """Sign ``pdf`` with the module of ``spec.format`` (`UnsupportedFormatError` otherwise)."""
    module = _MODULES.get(spec.format)
    if module is None:
        raise UnsupportedFormatError(
            f"The signature format {spec.format!r} is not supported here.",
            format=str(spec.format),
        )
    return module()(
        pdf=pdf, identity=identity, spec=spec, timestamper=timestamper, validation=validation
    )
