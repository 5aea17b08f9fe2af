"""How many SMS segments a text takes (3GPP TS 23.038 / 23.040).

A text every character of which is in the GSM 03.38 alphabet is sent in GSM-7: 160 septets in
one segment, 153 a segment when concatenated (the user-data header takes 7). Characters of the
extension table (`^ { } \\ [ ~ ] | €` and form feed) take two septets, an escape and the
character. Any other character makes the whole text UCS-2: 70 UTF-16 code units in one segment,
67 a segment when concatenated. The GSM 03.38 codec (`gsm0338`) decides which characters
fit and how many septets each takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import gsm0338  # type: ignore[import-untyped]  # noqa: F401  (registers `gsm03.38`)

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True, slots=True)
class Segments:
    encoding: Literal["gsm7", "ucs2"]
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int

    def to_json(self) -> dict[str, object]:
        return {"encoding": self.encoding, "units": self.units, "count": self.count}


def count_segments(text: str) -> Segments:
    try:
        septets = len(text.encode("gsm03.38"))
    except UnicodeEncodeError:
        units = len(text.encode("utf-16-le")) // 2
        return Segments("ucs2", units, _count(units, UCS2_SINGLE, UCS2_MULTI))
    return Segments("gsm7", septets, _count(septets, GSM7_SINGLE, GSM7_MULTI))


def _count(units: int, single: int, multi: int) -> int:
    if units <= single:
        return 1
    return math.ceil(units / multi)
