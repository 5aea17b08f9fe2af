"""Type aliases named once for the whole package."""

from __future__ import annotations

from typing import Literal, TypeAlias

Level: TypeAlias = Literal["error", "warning", "info"]
Status: TypeAlias = Literal["ok", "warning", "error"]
