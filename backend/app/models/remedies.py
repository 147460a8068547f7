"""What an operator can do about a failed download or load: one line for the common causes, shown beside
the error in the slot's status (`last_error.remedy`) and on the dashboard's model card.

The cause is recognised from the exception's class names and messages, along its whole chain (wrappers
re-raise library errors with context), and from the error text the slot recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from app.slots import Role

if TYPE_CHECKING:
    from app.models.base import BaseModelWrapper

FALLBACK = "Read the log lines around this time (GET /api/admin/logs), fix the cause, then load the model again."


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def remedy_for(wrapper: BaseModelWrapper, error: str, exc: BaseException | None) -> str:
    chain = list(_chain(exc))
    names = {cls.__name__ for e in chain for cls in type(e).__mro__}
    text = " ".join([error, *(str(e) for e in chain)]).lower()
    model_id = wrapper.setting_name("model_id")
    revision = wrapper.setting_name("revision")
    device = wrapper.setting_name(wrapper.device_field)

    if "GatedRepoError" in names or any(w in text for w in ("gated", "restricted", "401 client", "403 client")):
        return (
            "The repository is gated or private: set a Hugging Face token (HUGGINGFACE_TOKEN, or the token "
            "dialog) whose account has accepted the model's conditions on its Hub page, then download again."
        )
    if "RepositoryNotFoundError" in names or "repository not found" in text:
        return (
            f"The Hub has no repository '{wrapper.model_id}' (or it is private): fix {model_id}, or set a token "
            "that can read it."
        )
    if "RevisionNotFoundError" in names or "revision not found" in text or "invalid rev" in text:
        return f"The Hub has no such revision of '{wrapper.model_id}': fix {revision}."
    if "less than desired gpu memory utilization" in text:
        return (
            "Other processes hold memory vLLM wants on this GPU: lower QWEN_GPU_MEMORY_UTILIZATION, free the GPU "
            "(gpus[].processes in the status), or load on another GPU."
        )
    if "kv cache" in text or "cache blocks" in text:
        return (
            "The KV cache does not fit: lower QWEN_MAX_MODEL_LEN, raise QWEN_GPU_MEMORY_UTILIZATION if the GPU has "
            "room, or load on more GPUs."
        )
    if "OutOfMemoryError" in names or "out of memory" in text:
        if wrapper.role == Role.LLM:
            return (
                f"The GPU ran out of memory: lower {wrapper.setting_name('gpu_memory_utilization')} or "
                f"{wrapper.setting_name('max_model_len')}, unload another model, or load on other GPUs."
            )
        return (
            f"The GPU ran out of memory: load on another GPU (gpu_device_ids, or {device} for loads that name "
            "none), unload another model, or lower QWEN_GPU_MEMORY_UTILIZATION to leave room beside vLLM."
        )
    if "no space left on device" in text:
        return "The disk of MODEL_CACHE_DIR is full (system.disk in the status): free space, then download again."
    if names & {"ImportError", "ModuleNotFoundError"} or "is not installed" in text:
        return (
            "A package this model needs is missing (the message names it): install the gateway's extra for it "
            "(scripts/setup.sh with cpu,asr,diarization or gpu,asr,diarization), then restart."
        )
    if "HFValidationError" in names:
        return f"{model_id} is neither an existing folder or file nor a Hub id (org/name): fix it."
    if names & {"FileNotFoundError", "NotADirectoryError"} or any(
        w in text
        for w in ("does not exist", "no such file", "no file named", "no .nemo file", "is missing", "is not a folder")
    ):
        return f"Files of the model are missing: fix {model_id} (a Hub id, or a local folder or file that exists)."
    if names & {"LocalEntryNotFoundError", "OfflineModeIsEnabled", "ConnectionError", "TimeoutError"} or any(
        w in text for w in ("connection", "connect", "timed out", "name or service not known")
    ):
        return (
            "The Hub could not be reached: check the network or HF_ENDPOINT; on a machine without Hub access, fill "
            f"MODEL_CACHE_DIR from one that has it (inference-gateway download), or set {model_id} to a local folder."
        )
    return FALLBACK
