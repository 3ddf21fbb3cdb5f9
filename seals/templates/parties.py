"""The parties named in scenario documents."""

from __future__ import annotations

from dataclasses import dataclass

from pki.errors import InvalidIdentifierError
from pki.identifiers import validate_uscc
from seals.templates._base import TemplateDataError, require_text


def checked_uscc(code: str, what: str) -> str:
    """The unified social credit code upper-cased, or `TemplateDataError` naming the field."""
    try:
        return validate_uscc(code)
    except InvalidIdentifierError as exc:
        raise TemplateDataError(f"{what}: {exc.detail}", field=what) from exc


@dataclass(frozen=True, slots=True)
class Party:
    """An organization as a document names it."""

    name: str
    uscc: str | None = None
    address: str | None = None
    representative: str | None = None

    def validate(self, what: str) -> None:
        require_text(self.name, f"{what}.name", max_length=200)
        if self.uscc is not None:
            checked_uscc(self.uscc, f"{what}.uscc")
        if self.address is not None:
            require_text(self.address, f"{what}.address", max_length=300)
        if self.representative is not None:
            require_text(self.representative, f"{what}.representative", max_length=100)
