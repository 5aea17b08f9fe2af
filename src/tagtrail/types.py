"""Type aliases named once for the whole package."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias

Level: TypeAlias = Literal["error", "warning", "info"]
Status: TypeAlias = Literal["ok", "warning", "error"]
JSONValue: TypeAlias = (
    str | int | float | bool | None | list["JSONValue"] | Mapping[str, "JSONValue"]
)
JSONObject: TypeAlias = Mapping[str, JSONValue]
