"""vLLM's async engine (`AsyncLLM`) behind the gateway's engine contract.

The engine stays async end to end: requests go straight to `AsyncLLM.generate` on the event loop,
outputs come back as deltas (`RequestOutputKind.DELTA`, no re-diffing), and a request whose
consumer stops iterating (client gone) is aborted in the engine. vLLM ends a request with "stop",
"length", "repetition", "abort" or "error"; the last two are failures, reported as a server error.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard, get_args

from app.engines.base import FinishReason, GenerationDelta, GenerationRequest, LLMEngine
from app.errors import GatewayError

if TYPE_CHECKING:
    from vllm.config.model import ModelDType

logger = logging.getLogger("app.engines.vllm")

# vLLM finish reasons that mean the engine dropped the request rather than completing it.
ENGINE_FAILURES = ("abort", "error")


def vllm_dtypes() -> tuple[str, ...]:
    """The weights' data types vLLM takes: "auto", "bfloat16", ..."""
    from vllm.config import model

    return get_args(model.ModelDType)


def is_vllm_dtype(dtype: str) -> TypeGuard[ModelDType]:
    return dtype in vllm_dtypes()


@contextmanager
def engine_environment(cuda_visible_devices: str) -> Iterator[None]:
    """Environment read by vLLM when it spawns its engine process; restored afterwards.

    The engine process must be spawned, not forked: NeMo/pyannote models on the GPU initialise
    CUDA in this process, and a forked engine then fails ("CUDA driver initialization failed").
    """
    wanted = {"CUDA_VISIBLE_DEVICES": cuda_visible_devices, "VLLM_WORKER_MULTIPROC_METHOD": "spawn"}
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if name == "VLLM_WORKER_MULTIPROC_METHOD":
                continue  # keep spawn for any later engine in this process
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class VLLMEngine(LLMEngine):
    name = "vllm"

    def __init__(self, engine: Any, tokenizer: Any, max_model_len: int, details: dict[str, Any]) -> None:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt
        from vllm.sampling_params import RequestOutputKind

        self.engine = engine
        self.tokenizer = tokenizer
        self.max_model_len = max_model_len
        self._details = details
        self._sampling_params = SamplingParams
        self._tokens_prompt = TokensPrompt
        self._delta = RequestOutputKind.DELTA

    @classmethod
    async def load(
        cls,
        model_dir: Path,
        cuda_visible_devices: str,
        tensor_parallel_size: int,
        max_model_len: int | None,
        dtype: str,
        gpu_memory_utilization: float,
        served_model_name: str,
        extra_args: dict[str, Any],
    ) -> VLLMEngine:
        from transformers import AutoTokenizer
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        if not is_vllm_dtype(dtype):
            raise ValueError(f"vLLM takes no dtype {dtype!r}; choose one of {', '.join(vllm_dtypes())}")
        args = AsyncEngineArgs(
            model=str(model_dir),
            served_model_name=[served_model_name],
            tensor_parallel_size=tensor_parallel_size,
            # None is vLLM's own default (the model's context length), though its annotation says int.
            max_model_len=max_model_len,  # type: ignore[arg-type]
            dtype=dtype,
            gpu_memory_utilization=gpu_memory_utilization,
            **extra_args,
        )
        with engine_environment(cuda_visible_devices):
            # Engine start takes minutes (weights, CUDA graphs): keep the event loop serving meanwhile.
            engine = await asyncio.to_thread(AsyncLLM.from_engine_args, args)
        tokenizer = await asyncio.to_thread(AutoTokenizer.from_pretrained, model_dir)
        length = engine.model_config.max_model_len
        details = {
            "cuda_visible_devices": cuda_visible_devices,
            "tensor_parallel_size": tensor_parallel_size,
            "dtype": str(engine.model_config.dtype).removeprefix("torch."),
            "gpu_memory_utilization": gpu_memory_utilization,
        }
        return cls(engine, tokenizer, length, details)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), **self._details}

    def sampling_params(self, request: GenerationRequest) -> Any:
        return self._sampling_params(
            n=1,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            seed=request.seed,
            stop=list(request.stop),
            ignore_eos=request.ignore_eos,
            skip_special_tokens=True,
            output_kind=self._delta,
        )

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationDelta, None]:
        prompt = self._tokens_prompt(prompt_token_ids=request.prompt_token_ids)
        params = self.sampling_params(request)
        finished = False
        try:
            async with aclosing(self.engine.generate(prompt, params, request.request_id)) as outputs:
                async for output in outputs:
                    completion = output.outputs[0]
                    if not output.finished:
                        yield GenerationDelta(completion.text, len(completion.token_ids))
                        continue
                    finished = True
                    if completion.finish_reason in ENGINE_FAILURES:
                        raise GatewayError(
                            f"the vLLM engine ended the request with '{completion.finish_reason}'; retry it",
                            code="engine_error",
                        )
                    reason: FinishReason = "length" if completion.finish_reason == "length" else "stop"
                    yield GenerationDelta(completion.text, len(completion.token_ids), reason)
        finally:
            if not finished:
                await asyncio.shield(self.engine.abort(request.request_id))

    async def shutdown(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            await asyncio.to_thread(engine.shutdown)
