"""Who a licence may name: once an enterprise is registered here, a licence naming its
credit code under another name is refused wherever licences are made — the registration, the
templates endpoint and bulk jobs — so a batch can no longer issue "杭州甲乙科技有限公司"
under someone else's code. (Names are not unique in the registry, codes are: the code decides.)"""

from __future__ import annotations

from sqlmodel import Session, select

from app.errors import InvalidInput
from app.models import Organization


class LicenceHolderMismatch(InvalidInput):
    """The licence's name and credit code do not belong together in the registry."""

    code = "licence-holder-mismatch"


def check_holder(session: Session, *, name: str, uscc: str) -> None:
    """Refuse a licence whose holder contradicts a registered enterprise."""
    name, uscc = name.strip(), uscc.strip().upper()
    by_code = session.exec(select(Organization).where(Organization.uscc == uscc)).first()
    if by_code is not None and by_code.name != name:
        raise LicenceHolderMismatch(
            f"the unified social credit code {uscc} is registered to {by_code.name}, not to {name}",
            errors=[{"loc": ["data", "name"], "msg": "not the holder of this credit code"}],
        )
