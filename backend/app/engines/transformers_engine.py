"""A transformers engine: `generate` on worker threads, streamed back to the event loop.

It serves the same OpenAI routes as vLLM on machines without one (CPU boxes, CI). Sampling with a
seed sets torch's global generator, so seeded outputs are reproducible only with one worker
(`QWEN_CPU_MAX_CONCURRENCY=1`, the default).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from app.engines.base import FinishReason, GenerationDelta, GenerationRequest, LLMEngine


class IncrementalDetokenizer:
    """Turns token ids into text deltas without splitting multi-byte characters."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._ids: list[int] = []
        self._prefix_offset = 0
        self._read_offset = 0

    def push(self, token_ids: list[int]) -> str:
        self._ids.extend(token_ids)
        decode = self._tokenizer.decode
        prefix: str = decode(self._ids[self._prefix_offset : self._read_offset], skip_special_tokens=True)
        text: str = decode(self._ids[self._prefix_offset :], skip_special_tokens=True)
        if len(text) > len(prefix) and not text.endswith("\ufffd"):
            self._prefix_offset = self._read_offset
            self._read_offset = len(self._ids)
            return text[len(prefix) :]
        return ""


class StopStringFilter:
    """Holds back text that may be the start of a stop string; reports when one is complete."""

    def __init__(self, stop: list[str]) -> None:
        self._stop = [s for s in stop if s]
        self._longest = max((len(s) for s in self._stop), default=0)
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if not self._stop:
            return text
        self._pending += text
        hits = [i for i in (self._pending.find(s) for s in self._stop) if i >= 0]
        if hits:
            self.stopped = True
            out, self._pending = self._pending[: min(hits)], ""
            return out
        keep = 0
        for size in range(min(self._longest - 1, len(self._pending)), 0, -1):
            tail = self._pending[-size:]
            if any(s.startswith(tail) for s in self._stop):
                keep = size
                break
        cut = len(self._pending) - keep
        out, self._pending = self._pending[:cut], self._pending[cut:]
        return out

    def flush(self) -> str:
        out, self._pending = self._pending, ""
        return out


class TransformersEngine(LLMEngine):
    name = "transformers"

    def __init__(self, model: Any, tokenizer: Any, device: str, max_model_len: int, max_concurrency: int) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.max_model_len = max_model_len
        self._executor = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="llm-generate")
        self._eos_ids = self._collect_eos_ids()

    @classmethod
    def load(
        cls, model_dir: Path, device: str, dtype: str, max_model_len: int | None, max_concurrency: int
    ) -> TransformersEngine:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch_dtype: Any = torch.float32 if device == "cpu" and dtype == "auto" else dtype
        if isinstance(torch_dtype, str) and torch_dtype != "auto":
            torch_dtype = getattr(torch, torch_dtype)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch_dtype)
        model.to(device)  # type: ignore[arg-type]  # transformers' @wraps(Module.to) misstates its signature
        model.eval()
        limit = getattr(model.config, "max_position_embeddings", None) or 32768
        return cls(model, tokenizer, device, min(max_model_len or limit, limit), max_concurrency)

    def _collect_eos_ids(self) -> set[int]:
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "device": self.device, "dtype": str(self.model.dtype).removeprefix("torch.")}

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationDelta, None]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[list[int] | BaseException | None] = asyncio.Queue()
        cancelled = threading.Event()

        def emit(item: list[int] | BaseException | None) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, item)

        future = loop.run_in_executor(self._executor, self._generate_blocking, request, emit, cancelled)
        detokenizer = IncrementalDetokenizer(self.tokenizer)
        stop_filter = StopStringFilter(request.stop)
        generated = 0
        last_token: int | None = None
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                generated += len(item)
                last_token = item[-1]
                text = stop_filter.feed(detokenizer.push(item))
                if stop_filter.stopped:
                    cancelled.set()
                    yield GenerationDelta(text, len(item), "stop")
                    return
                yield GenerationDelta(text, len(item))
            finish: FinishReason = "stop"
            if generated >= request.max_tokens and (request.ignore_eos or last_token not in self._eos_ids):
                finish = "length"
            yield GenerationDelta(stop_filter.flush(), 0, finish)
        finally:
            cancelled.set()
            if not future.done():
                future.add_done_callback(lambda f: f.exception())

    def _generate_blocking(self, request: GenerationRequest, emit: Any, cancelled: threading.Event) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList
        from transformers.generation.streamers import BaseStreamer

        class TokenStreamer(BaseStreamer):
            def __init__(self) -> None:
                self.prompt_seen = False

            def put(self, value: Any) -> None:
                if not self.prompt_seen:
                    self.prompt_seen = True
                    return
                emit(value.reshape(-1).tolist())

            def end(self) -> None:
                pass

        class Cancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), cancelled.is_set(), dtype=torch.bool)

        try:
            if request.seed is not None:
                # As unsigned 64 bits: torch maps negative seeds with an offset that makes -2**63 and 2**63 - 1 meet.
                torch.manual_seed(request.seed % 2**64)
            sampling = request.temperature > 0
            options: dict[str, Any] = {
                "max_new_tokens": request.max_tokens,
                "do_sample": sampling,
                "streamer": TokenStreamer(),
                "stopping_criteria": StoppingCriteriaList([Cancelled()]),
                "pad_token_id": self.tokenizer.pad_token_id or next(iter(self._eos_ids), None),
            }
            if sampling:
                options.update(temperature=request.temperature, top_p=request.top_p, top_k=0)
            if request.ignore_eos:
                options["min_new_tokens"] = request.max_tokens
            input_ids = torch.tensor([request.prompt_token_ids], device=self.device)
            with torch.inference_mode():
                self.model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), **options)
        except BaseException as exc:
            emit(exc)
        finally:
            emit(None)

    async def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.model = None
