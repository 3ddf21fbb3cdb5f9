"""Administrative divisions (行政区划) of enterprises, read from their unified social credit
code: characters 3-8 (GB 32100) are the registering authority's six-digit division code,
whose first two digits name the province and first four the city."""

from __future__ import annotations

from enum import StrEnum

UNKNOWN_DIVISION = "000000"


class RegionLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"


DIGITS: dict[RegionLevel, int] = {
    RegionLevel.province: 2,
    RegionLevel.city: 4,
    RegionLevel.county: 6,
}


def division_of(uscc: str | None) -> str:
    """The six-digit division code of a credit code ('000000' when it has none)."""
    if not uscc or len(uscc) != 18:
        return UNKNOWN_DIVISION
    code = uscc[2:8]
    return code if code.isdigit() else UNKNOWN_DIVISION


def region_of(division: str, level: RegionLevel) -> str:
    """The division rolled up to `level`: 330106 -> 3301 (city) -> 33 (province)."""
    return division[: DIGITS[level]]
