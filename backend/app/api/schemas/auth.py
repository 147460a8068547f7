"""The body of `/api/auth/me`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.api.schemas.common import ResponseBody


class Caller(ResponseBody):
    name: str = Field(description="The key's client name (`anonymous` in open mode)")
    role: Literal["admin", "client"]
    open_mode: bool = Field(description="No keys are configured: every caller is an admin")
