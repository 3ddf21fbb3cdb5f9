"""Shapes of signing requests: placements as a tagged union, parsed from a form field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from seals.placement import (
    CoordinatePlacement,
    CrossPagePlacement,
    InvisiblePlacement,
    KeywordPlacement,
    Placement,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CoordinatesIn(_Strict):
    """The seal's centre, in millimetres from the top-left corner of the page."""

    type: Literal["coordinates"]
    page: int = Field(ge=1, le=100_000)
    x_mm: float = Field(ge=0, le=5000)
    y_mm: float = Field(ge=0, le=5000)

    def to_domain(self) -> Placement:
        return CoordinatePlacement(page=self.page, x_mm=self.x_mm, y_mm=self.y_mm)


class KeywordIn(_Strict):
    """Centred on a text such as 甲方（盖章）; the first, last or every occurrence."""

    type: Literal["keyword"]
    keyword: str = Field(min_length=1, max_length=100)
    occurrence: Literal["first", "last", "all"] = "first"
    offset_x_mm: float = Field(default=0, ge=-500, le=500)
    offset_y_mm: float = Field(default=0, ge=-500, le=500)

    def to_domain(self) -> Placement:
        return KeywordPlacement(
            keyword=self.keyword,
            occurrence=self.occurrence,
            offset_x_mm=self.offset_x_mm,
            offset_y_mm=self.offset_y_mm,
        )


class CrossPageIn(_Strict):
    """The riding seal (骑缝章): one slice on the right edge of each page of the range."""

    type: Literal["cross_page"]
    first_page: int | None = Field(default=None, ge=1)
    last_page: int | None = Field(default=None, ge=1)
    y_mm: float | None = Field(default=None, ge=0, le=5000)

    def to_domain(self) -> Placement:
        return CrossPagePlacement(
            first_page=self.first_page, last_page=self.last_page, y_mm=self.y_mm
        )


class InvisibleIn(_Strict):
    type: Literal["invisible"]

    def to_domain(self) -> Placement:
        return InvisiblePlacement()


PlacementIn = Annotated[
    CoordinatesIn | KeywordIn | CrossPageIn | InvisibleIn, Field(discriminator="type")
]
PLACEMENT = TypeAdapter(PlacementIn)
