"""What every response schema shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ResponseBody(BaseModel):
    """A response body as the API documents declare it. Extra keys are refused, so a body that gains a field
    its schema lacks fails loudly in the tests instead of being dropped on the way out."""

    model_config = ConfigDict(extra="forbid")
