"""The vLLM adapter against real vLLM 0.26 types: the requests it builds, the outputs it reads, its aborts.

vLLM's engine cannot start without a GPU, so `FakeAsyncLLM` stands in for `AsyncLLM` at its async
boundary only (`generate`, `abort`, `shutdown`, `model_config`): what it receives (`TokensPrompt`,
`SamplingParams`) and what it yields (`RequestOutput` holding `CompletionOutput` deltas) are vLLM's own.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest
import torch
from transformers import AutoTokenizer

from app.config import Settings
from app.engines.base import GenerationDelta, GenerationRequest
from app.engines.vllm_engine import VLLMEngine
from app.errors import GatewayError
from app.models.qwen import QwenModel
from tests.conftest import LiveServer, assert_health_answers_while_templating

pytestmark = pytest.mark.vllm
pytest.importorskip("vllm")

from vllm import AsyncEngineArgs, CompletionOutput, RequestOutput, SamplingParams, TokensPrompt  # noqa: E402
from vllm.sampling_params import RequestOutputKind, SamplingType  # noqa: E402
from vllm.v1.engine.async_llm import AsyncLLM  # noqa: E402
from vllm.v1.serial_utils import MsgpackDecoder, MsgpackEncoder  # noqa: E402

MODEL = "tiny-qwen"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello! How are you?"}]
# One request's deltas as vLLM streams them: one delta may carry several tokens (outputs merged while
# the consumer was busy) or none of their text yet (an incomplete UTF-8 sequence is held back).
STEPS = [("Hel", [101]), ("lo", [102]), ("", [103]), (" wor", [104, 105]), ("ld!", [106])]
TEXT = "Hello world!"
TOKENS = 6


def request_output(
    request_id: str, prompt: TokensPrompt, text: str, token_ids: list[int], finish_reason: str | None = None
) -> RequestOutput:
    completion = CompletionOutput(
        index=0,
        text=text,
        token_ids=token_ids,
        cumulative_logprob=None,
        logprobs=None,
        finish_reason=finish_reason,
        stop_reason=None,
    )
    return RequestOutput(
        request_id=request_id,
        prompt=None,
        prompt_token_ids=prompt["prompt_token_ids"],
        prompt_logprobs=None,
        outputs=[completion],
        finished=finish_reason is not None,
    )


@dataclass
class FakeModelConfig:
    max_model_len: int
    dtype: torch.dtype = torch.bfloat16


class FakeAsyncLLM:
    """`AsyncLLM` at its async boundary: yields real vLLM outputs and records every call it gets.

    With `interval_s` it streams one token every `interval_s` until the request is aborted.
    """

    def __init__(self, finish_reason: str = "length", interval_s: float | None = None) -> None:
        self.finish_reason = finish_reason
        self.interval_s = interval_s
        self.model_config = FakeModelConfig(max_model_len=4096)
        self.requests: list[tuple[TokensPrompt, SamplingParams, str]] = []
        self.aborted: list[str] = []
        self.closed: list[str] = []  # requests whose `generate` iterator has finished or been closed
        self.abort_seen = threading.Event()
        self.shutdowns = 0

    async def generate(
        self, prompt: TokensPrompt, sampling_params: SamplingParams, request_id: str
    ) -> AsyncIterator[RequestOutput]:
        self.requests.append((prompt, sampling_params, request_id))
        try:
            if self.interval_s is not None:
                while request_id not in self.aborted:
                    await asyncio.sleep(self.interval_s)
                    yield request_output(request_id, prompt, "la", [7])
                return
            for index, (text, token_ids) in enumerate(STEPS):
                finish = self.finish_reason if index == len(STEPS) - 1 else None
                yield request_output(request_id, prompt, text, token_ids, finish)
        finally:
            self.closed.append(request_id)

    async def abort(self, request_id: str) -> None:
        self.aborted.append(request_id)
        self.abort_seen.set()

    def shutdown(self) -> None:
        self.shutdowns += 1


class FakeEngineQwen(QwenModel):
    """The real LLM slot whose `_load` puts the vLLM adapter over a fake engine."""

    def __init__(self, settings: Settings, token_provider: Callable[[], str | None], fake: FakeAsyncLLM) -> None:
        super().__init__(settings, token_provider)
        self.fake = fake

    async def _start_engine(self, path: Path, devices: list[str]) -> VLLMEngine:
        tokenizer = await asyncio.to_thread(AutoTokenizer.from_pretrained, path)
        return VLLMEngine(self.fake, tokenizer, self.fake.model_config.max_model_len, {"dtype": "bfloat16"})


@pytest.fixture(scope="module")
def tokenizer(tiny_qwen_dir: Path) -> Any:
    return AutoTokenizer.from_pretrained(tiny_qwen_dir)


@pytest.fixture
def start(serve: Callable[..., LiveServer]) -> Callable[[FakeAsyncLLM], LiveServer]:
    """Start a gateway whose LLM slot runs the vLLM adapter over `fake`, loaded and ready."""

    def start_with(fake: FakeAsyncLLM) -> LiveServer:
        def factory(settings: Settings, token_provider: Callable[[], str | None]) -> FakeEngineQwen:
            return FakeEngineQwen(settings, token_provider, fake)

        server = serve(
            {"wrapper_factories": {"qwen": factory}, "with_defaults": False},
            qwen_served_model_name=MODEL,
            lazy_load_models=False,
        )
        server.wait_for_state("qwen", "loaded")
        return server

    return start_with


def sdk(server: LiveServer, timeout: float = 30) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="unused", max_retries=0, timeout=timeout)


def chat_prompt_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """The tiny model's chat template written out by hand, then tokenized."""
    turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return tokenizer.encode(turns + "<|im_start|>assistant\n", add_special_tokens=False)


def sse_payloads(raw: str) -> list[str]:
    events = [e for e in raw.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events), events
    return [e.removeprefix("data: ") for e in events]


def wait_until_idle(server: LiveServer, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    with server.client() as http:
        while (status := http.get("/api/admin/models/qwen").json())["in_flight_requests"]:
            assert time.monotonic() < deadline, status
            time.sleep(0.02)


def run_engine(engine: VLLMEngine, request: GenerationRequest) -> list[GenerationDelta]:
    """Iterate `engine.generate` to the end on a fresh event loop."""

    async def consume() -> list[GenerationDelta]:
        async with aclosing(engine.generate(request)) as stream:
            return [delta async for delta in stream]

    return asyncio.run(consume())


# --- the adapter on its own ------------------------------------------------------------------------
def test_sampling_params_are_valid_vllm_params(tokenizer: Any) -> None:
    engine = VLLMEngine(FakeAsyncLLM(), tokenizer, 4096, {})
    request = GenerationRequest(
        "req-1", [5, 6, 7], max_tokens=7, temperature=0.5, top_p=0.9, seed=11, stop=["\n\n", "END"], ignore_eos=True
    )
    params = engine.sampling_params(request)
    assert type(params) is SamplingParams
    assert (params.n, params.max_tokens, params.temperature, params.top_p, params.seed) == (1, 7, 0.5, 0.9, 11)
    assert params.stop == ["\n\n", "END"]
    assert params.ignore_eos and params.skip_special_tokens
    assert params.output_kind is RequestOutputKind.DELTA
    # vLLM's own post-init ran: seeded sampling, and text held back while a stop string may be forming.
    assert params.sampling_type is SamplingType.RANDOM_SEED
    assert params.output_text_buffer_length == len("END") - 1
    # The params cross to the engine core process in vLLM's msgpack encoding and come back intact.
    decoded = MsgpackDecoder(SamplingParams).decode(MsgpackEncoder().encode(params))
    assert (decoded.max_tokens, decoded.seed, decoded.stop, decoded.output_kind) == (
        7,
        11,
        ["\n\n", "END"],
        RequestOutputKind.DELTA,
    )

    greedy = engine.sampling_params(GenerationRequest("req-2", [5], max_tokens=3, temperature=0.0))
    assert greedy.sampling_type is SamplingType.GREEDY
    assert (greedy.seed, greedy.stop, greedy.ignore_eos) == (None, [], False)
    with pytest.raises(ValueError, match="max_tokens"):
        engine.sampling_params(GenerationRequest("req-3", [5], max_tokens=0))


@pytest.mark.parametrize(("vllm_reason", "reason"), [("length", "length"), ("stop", "stop"), ("repetition", "stop")])
def test_generate_maps_request_outputs_to_deltas(tokenizer: Any, vllm_reason: str, reason: str) -> None:
    fake = FakeAsyncLLM(finish_reason=vllm_reason)
    engine = VLLMEngine(fake, tokenizer, 4096, {})
    deltas = run_engine(engine, GenerationRequest("req-1", [5, 6, 7], max_tokens=16))
    expected = [GenerationDelta(text, len(ids)) for text, ids in STEPS]
    expected[-1].finish_reason = reason
    assert deltas == expected
    ((prompt, params, request_id),) = fake.requests
    assert prompt == TokensPrompt(prompt_token_ids=[5, 6, 7])
    assert (params.max_tokens, request_id) == (16, "req-1")
    assert fake.aborted == []


@pytest.mark.parametrize("vllm_reason", ["error", "abort"])
def test_engine_failure_is_a_gateway_error(tokenizer: Any, vllm_reason: str) -> None:
    fake = FakeAsyncLLM(finish_reason=vllm_reason)
    with pytest.raises(GatewayError, match=vllm_reason) as caught:
        run_engine(VLLMEngine(fake, tokenizer, 4096, {}), GenerationRequest("req-1", [5], max_tokens=16))
    assert caught.value.status_code == 500 and caught.value.code == "engine_error"
    assert fake.aborted == []  # the engine already dropped the request


def test_closing_early_aborts_the_request(tokenizer: Any) -> None:
    fake = FakeAsyncLLM()
    engine = VLLMEngine(fake, tokenizer, 4096, {})

    async def read_two_then_close() -> tuple[list[str], list[str], list[str]]:
        async with aclosing(engine.generate(GenerationRequest("req-9", [5], max_tokens=16))) as stream:
            texts = [(await anext(stream)).text, (await anext(stream)).text]
        return texts, list(fake.closed), list(fake.aborted)

    texts, closed, aborted = asyncio.run(read_two_then_close())
    assert texts == ["Hel", "lo"]
    # By the time the adapter's iterator is closed, the engine's is closed and the request aborted.
    assert closed == aborted == ["req-9"]


def test_load_builds_the_engine_from_engine_args(tiny_qwen_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")
    monkeypatch.setenv("VLLM_WORKER_MULTIPROC_METHOD", "fork")
    fake = FakeAsyncLLM()
    seen: list[tuple[AsyncEngineArgs, str, str]] = []

    def from_engine_args(cls: type[AsyncLLM], args: AsyncEngineArgs) -> FakeAsyncLLM:
        seen.append((args, os.environ["CUDA_VISIBLE_DEVICES"], os.environ["VLLM_WORKER_MULTIPROC_METHOD"]))
        return fake

    monkeypatch.setattr(AsyncLLM, "from_engine_args", classmethod(from_engine_args))
    engine = asyncio.run(
        VLLMEngine.load(
            tiny_qwen_dir,
            cuda_visible_devices="2",
            tensor_parallel_size=1,
            max_model_len=2048,
            dtype="auto",
            gpu_memory_utilization=0.5,
            served_model_name=MODEL,
            extra_args={"load_format": "dummy"},
        )
    )
    ((args, visible, method),) = seen
    assert type(args) is AsyncEngineArgs
    assert (args.model, args.served_model_name, args.tensor_parallel_size) == (str(tiny_qwen_dir), [MODEL], 1)
    assert (args.max_model_len, args.dtype, args.gpu_memory_utilization, args.load_format) == (
        2048,
        "auto",
        0.5,
        "dummy",
    )
    assert (visible, method) == ("2", "spawn")
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0,1,2,3"
    assert engine.engine is fake and engine.max_model_len == 4096
    assert engine.tokenizer.encode("Hello") == AutoTokenizer.from_pretrained(tiny_qwen_dir).encode("Hello")
    assert engine.describe() == {
        "engine": "vllm",
        "max_model_len": 4096,
        "cuda_visible_devices": "2",
        "tensor_parallel_size": 1,
        "dtype": "bfloat16",
        "gpu_memory_utilization": 0.5,
    }
    asyncio.run(engine.shutdown())
    assert fake.shutdowns == 1 and engine.engine is None


# --- through a live gateway -------------------------------------------------------------------------
@pytest.mark.parametrize(("vllm_reason", "reason"), [("length", "length"), ("stop", "stop")])
def test_chat_non_stream(
    start: Callable[[FakeAsyncLLM], LiveServer], tokenizer: Any, vllm_reason: str, reason: str
) -> None:
    fake = FakeAsyncLLM(finish_reason=vllm_reason)
    completion = sdk(start(fake)).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=20)
    (choice,) = completion.choices
    assert choice.message.content == TEXT
    assert choice.finish_reason == reason
    prompt_ids = chat_prompt_ids(tokenizer, MESSAGES)
    assert completion.usage.prompt_tokens == len(prompt_ids)
    assert completion.usage.completion_tokens == TOKENS
    ((prompt, params, request_id),) = fake.requests
    assert prompt == TokensPrompt(prompt_token_ids=prompt_ids)
    assert request_id == f"{completion.id}-0"
    assert params.max_tokens == 20


def test_chat_stream_chunks(start: Callable[[FakeAsyncLLM], LiveServer], tokenizer: Any) -> None:
    fake = FakeAsyncLLM()
    server = start(fake)
    chunks = list(
        sdk(server).chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=20, stream=True, stream_options={"include_usage": True}
        )
    )
    role, *contents, finish, usage = chunks
    assert role.choices[0].delta.role == "assistant" and role.choices[0].delta.content == ""
    assert [c.choices[0].delta.content for c in contents] == [text for text, _ in STEPS if text]
    assert all(c.choices[0].finish_reason is None for c in [role, *contents])
    assert finish.choices[0].delta.content is None and finish.choices[0].finish_reason == "length"
    assert all(c.usage is None for c in [role, *contents, finish])
    assert usage.choices == []
    prompt_tokens = len(chat_prompt_ids(tokenizer, MESSAGES))
    assert (usage.usage.prompt_tokens, usage.usage.completion_tokens) == (prompt_tokens, TOKENS)
    assert len({c.id for c in chunks}) == 1

    body = {
        "model": MODEL,
        "messages": MESSAGES,
        "max_tokens": 20,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with server.client() as http, http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        payloads = sse_payloads(response.read().decode())
    assert payloads[-1] == "[DONE]"
    events = [json.loads(p) for p in payloads[:-1]]
    assert [e["choices"][0]["delta"] for e in events[:-1]] == [
        {"role": "assistant", "content": ""},
        *({"content": text} for text, _ in STEPS if text),
        {},
    ]
    assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == TOKENS


def test_completions(start: Callable[[FakeAsyncLLM], LiveServer], tokenizer: Any) -> None:
    fake = FakeAsyncLLM(finish_reason="stop")
    client = sdk(start(fake))
    text = client.completions.create(model=MODEL, prompt="The quick brown", max_tokens=20)
    assert (text.choices[0].text, text.choices[0].finish_reason) == (TEXT, "stop")
    assert text.usage.completion_tokens == TOKENS
    ids = client.completions.create(
        model=MODEL, prompt=[5, 6, 7], max_tokens=20, stream=True, stream_options={"include_usage": True}
    )
    *choices, usage = list(ids)
    assert "".join(c.choices[0].text for c in choices) == TEXT
    assert choices[-1].choices[0].finish_reason == "stop"
    assert (usage.usage.prompt_tokens, usage.usage.completion_tokens) == (3, TOKENS)
    prompts = [prompt for prompt, _, _ in fake.requests]
    expected = tokenizer.encode("The quick brown", add_special_tokens=False)
    assert prompts == [TokensPrompt(prompt_token_ids=expected), TokensPrompt(prompt_token_ids=[5, 6, 7])]


def test_n_choices_are_separate_engine_requests(start: Callable[[FakeAsyncLLM], LiveServer]) -> None:
    fake = FakeAsyncLLM()
    completion = sdk(start(fake)).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=20, n=2, seed=7)
    assert [(c.index, c.message.content) for c in completion.choices] == [(0, TEXT), (1, TEXT)]
    assert completion.usage.completion_tokens == 2 * TOKENS
    ids = sorted(request_id for _, _, request_id in fake.requests)
    assert ids == [f"{completion.id}-0", f"{completion.id}-1"]
    seeds = {request_id: params.seed for _, params, request_id in fake.requests}
    assert seeds == {f"{completion.id}-0": 7, f"{completion.id}-1": 8}
    assert fake.requests[0][0] == fake.requests[1][0]


def test_sampling_fields_are_forwarded(start: Callable[[FakeAsyncLLM], LiveServer], tokenizer: Any) -> None:
    fake = FakeAsyncLLM()
    client = sdk(start(fake))
    client.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        max_tokens=5,
        stop=["x", "yz"],
        seed=42,
        temperature=0.7,
        top_p=0.9,
        extra_body={"ignore_eos": True},
    )
    client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0)
    (_, sampled, _), (_, greedy, _) = fake.requests
    assert type(sampled) is SamplingParams
    assert (sampled.max_tokens, sampled.stop, sampled.seed) == (5, ["x", "yz"], 42)
    assert (sampled.temperature, sampled.top_p, sampled.ignore_eos) == (0.7, 0.9, True)
    assert (sampled.n, sampled.output_kind) == (1, RequestOutputKind.DELTA)
    assert greedy.sampling_type is SamplingType.GREEDY
    assert greedy.max_tokens == 4096 - len(chat_prompt_ids(tokenizer, MESSAGES))
    assert (greedy.seed, greedy.stop, greedy.ignore_eos) == (None, [], False)


def test_top_p_zero_is_greedy_in_valid_params(start: Callable[[FakeAsyncLLM], LiveServer]) -> None:
    """vLLM refuses top_p=0 (the spec's range is inclusive): the gateway sends greedy sampling instead."""
    fake = FakeAsyncLLM()
    sdk(start(fake)).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5, top_p=0, temperature=0.8)
    ((_, params, _),) = fake.requests
    assert type(params) is SamplingParams
    assert (params.temperature, params.top_p, params.sampling_type) == (0.0, 1.0, SamplingType.GREEDY)
    with pytest.raises(ValueError, match="top_p"):
        SamplingParams(top_p=0.0)


@pytest.mark.parametrize(("seed", "seeds"), [(2**63 - 1, [2**63 - 1, -(2**63)]), (-(2**63), [-(2**63), -(2**63) + 1])])
def test_extreme_seeds_make_valid_params(
    start: Callable[[FakeAsyncLLM], LiveServer], seed: int, seeds: list[int]
) -> None:
    fake = FakeAsyncLLM()
    completion = sdk(start(fake)).chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=5, n=2, seed=seed, temperature=1.0
    )
    by_id = {request_id: params for _, params, request_id in fake.requests}
    params = [by_id[f"{completion.id}-{i}"] for i in range(2)]
    assert [p.seed for p in params] == seeds
    for sent in params:
        assert type(sent) is SamplingParams and sent.sampling_type is SamplingType.RANDOM_SEED
        assert MsgpackDecoder(SamplingParams).decode(MsgpackEncoder().encode(sent)).seed == sent.seed
        # vLLM's GPU sampler keeps per-request seeds in an int64 array.
        assert np.array([sent.seed], dtype=np.int64)[0] == sent.seed


def test_health_answers_while_a_chat_prompt_is_templated(
    start: Callable[[FakeAsyncLLM], LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeAsyncLLM()
    server = start(fake)
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Hello! " * 1000}], "max_tokens": 20}
    response = assert_health_answers_while_templating(server, body, monkeypatch)
    assert response.json()["choices"][0]["message"]["content"] == TEXT
    prompt, _, _ = fake.requests[-1]
    assert len(prompt["prompt_token_ids"]) > 200


def test_system_fingerprint_names_the_engine_setup(start: Callable[[FakeAsyncLLM], LiveServer]) -> None:
    server = start(FakeAsyncLLM())
    client = sdk(server)
    fingerprint = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5).system_fingerprint
    assert isinstance(fingerprint, str) and fingerprint.startswith("fp_")
    chunks = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5, stream=True))
    assert {c.system_fingerprint for c in chunks} == {fingerprint}


def test_engine_error_reaches_the_client(start: Callable[[FakeAsyncLLM], LiveServer]) -> None:
    server = start(FakeAsyncLLM(finish_reason="error"))
    with pytest.raises(openai.InternalServerError) as caught:
        sdk(server).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=20)
    assert caught.value.response.json()["error"]["code"] == "engine_error"
    body = {"model": MODEL, "messages": MESSAGES, "max_tokens": 20, "stream": True}
    with server.client() as http:
        payloads = sse_payloads(http.post("/v1/chat/completions", json=body).text)
    assert payloads[-1] == "[DONE]"
    error = json.loads(payloads[-2])["error"]
    assert (error["type"], error["code"]) == ("server_error", "engine_error")
    wait_until_idle(server)


def test_unload_shuts_the_engine_down(start: Callable[[FakeAsyncLLM], LiveServer]) -> None:
    fake = FakeAsyncLLM()
    server = start(fake)
    with server.client() as http:
        status = http.get("/api/admin/models/qwen").json()
        assert status["server"]["engine"] == "vllm" and status["server"]["max_model_len"] == 4096
        assert http.post("/api/admin/models/qwen/unload").status_code == 202
    server.wait_for_state("qwen", "downloaded")
    assert fake.shutdowns == 1


# --- a departed client aborts its request in the engine ------------------------------------------------
def test_stream_disconnect_aborts(start: Callable[[FakeAsyncLLM], LiveServer]) -> None:
    fake = FakeAsyncLLM(interval_s=0.02)
    server = start(fake)
    body = {"model": MODEL, "messages": MESSAGES, "stream": True}
    with server.client() as http, http.stream("POST", "/v1/chat/completions", json=body) as response:
        events: list[dict[str, Any]] = []
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
            if len(events) == 3:
                break
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert [e["choices"][0]["delta"] for e in events[1:]] == [{"content": "la"}] * 2
    assert fake.abort_seen.wait(2)
    ((_, _, request_id),) = fake.requests
    assert fake.aborted == [request_id]
    wait_until_idle(server)


def test_non_stream_timeout_aborts(start: Callable[[FakeAsyncLLM], LiveServer]) -> None:
    fake = FakeAsyncLLM(interval_s=0.02)
    server = start(fake)
    with server.client(timeout=0.5) as http, pytest.raises(httpx.ReadTimeout):
        http.post("/v1/chat/completions", json={"model": MODEL, "messages": MESSAGES})
    assert fake.abort_seen.wait(2)
    ((_, _, request_id),) = fake.requests
    assert fake.aborted == [request_id]
    wait_until_idle(server)
