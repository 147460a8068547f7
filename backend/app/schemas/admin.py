"""Bodies of the admin routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LoadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gpu_device_ids: list[int] | None = Field(None, description="GPU ids to load on; default: the slot's own")


class UnloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wait: bool = Field(True, description="Drain in-flight requests first; false answers 409 while busy")


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(None, description="Hugging Face token; empty or null removes it")
