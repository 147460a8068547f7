"""The gateway on the real vLLM engine, on a GPU: OpenAI routes, aborts and unload through a live server.

The model is `GPU_TEST_LLM_DIR`, else `$GPU_BUNDLE_MODELS/tiny` (a Qwen3 folder with a real tokenizer and
no weights: vLLM fills them with `load_format="dummy"`). Text is noise, so counts and shapes are checked.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from app.config import Settings
from tests.conftest import LiveServer, live_server

pytestmark = pytest.mark.gpu

MODEL = "gpu-qwen"
MAX_MODEL_LEN = 2048
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello! How are you?"}]
LONG = 1800  # completion tokens of a request that outlives its client
ENGINE_START_S = 600  # weights (or dummy init), torch.compile and CUDA graphs: ~100 s seen on an H100


def model_dir() -> Path:
    explicit = os.environ.get("GPU_TEST_LLM_DIR")
    if explicit:
        return Path(explicit)
    bundle = os.environ.get("GPU_BUNDLE_MODELS")
    if not bundle:
        pytest.skip("set GPU_TEST_LLM_DIR or GPU_BUNDLE_MODELS (source the GPU bundle's env.sh)")
    return Path(bundle) / "tiny"


def wait_loaded(server: LiveServer) -> dict[str, Any]:
    """The slot's status once loaded; fails at once with the load error if the engine did not start."""
    deadline = time.monotonic() + ENGINE_START_S
    with server.client() as http:
        while True:
            status = http.get("/api/admin/models/qwen").json()
            if status["state"] == "loaded":
                return status
            assert status["state"] != "error", status
            assert time.monotonic() < deadline, status
            time.sleep(0.5)


@pytest.fixture(scope="module")
def gpu_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    pytest.importorskip("vllm")
    directory = model_dir()
    if not (directory / "config.json").is_file():
        pytest.skip(f"{directory} holds no model (config.json missing)")
    load_format = "auto" if any(directory.glob("*.safetensors")) else "dummy"
    settings = Settings(
        _env_file=None,
        model_cache_dir=tmp_path_factory.mktemp("model_cache"),
        qwen_model_id=str(directory),
        qwen_served_model_name=MODEL,
        qwen_engine="vllm",
        qwen_engine_args={"load_format": load_format},
        qwen_max_model_len=MAX_MODEL_LEN,
        qwen_gpu_memory_utilization=0.5,
        lazy_load_models=False,
        log_level="warning",
    )
    with live_server(settings) as server:
        wait_loaded(server)
        yield server


@pytest.fixture(scope="module")
def sdk(gpu_gateway: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gpu_gateway.base_url}/v1", api_key="unused", max_retries=0, timeout=120)


def prompt_tokens(server: LiveServer, messages: list[dict[str, str]]) -> int:
    """The chat prompt's length, from the engine's tokenizer and the model's own chat template."""
    tokenizer = server.state.registry.get("qwen").engine.tokenizer
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return len(tokenizer.encode(text, add_special_tokens=False))


def unfinished_in_vllm(server: LiveServer) -> int:
    """Requests vLLM's `AsyncLLM` still tracks (its output processor's state)."""
    return server.state.registry.get("qwen").engine.engine.output_processor.get_num_unfinished_requests()


def wait_idle(server: LiveServer, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with server.client() as http:
        while True:
            status = http.get("/api/admin/models/qwen").json()
            if status["in_flight_requests"] == 0 and unfinished_in_vllm(server) == 0:
                return status
            assert time.monotonic() < deadline, (status, unfinished_in_vllm(server))
            time.sleep(0.05)


def test_models_and_engine_status(gpu_gateway: LiveServer, sdk: openai.OpenAI) -> None:
    assert [m.id for m in sdk.models.list().data] == [MODEL]
    with gpu_gateway.client() as http:
        status = http.get("/api/admin/models/qwen").json()
    assert status["state"] == "loaded" and status["devices"] == ["cuda:0"]
    server = status["server"]
    assert (server["engine"], server["max_model_len"], server["gpu_memory_utilization"]) == (
        "vllm",
        MAX_MODEL_LEN,
        0.5,
    )
    assert server["dtype"] in ("bfloat16", "float16")
    with gpu_gateway.client() as http:
        budget = http.get("/api/admin/status").json()["gpu_budget"][0]
    reserved = {"key": "qwen", "kind": "llm", "mib": round(0.5 * budget["total_mib"]), "basis": "reserved"}
    assert budget["index"] == 0 and budget["models"] == [reserved]
    assert budget["headroom_mib"] == budget["total_mib"] - budget["used_mib"]


def test_chat_non_stream(gpu_gateway: LiveServer, sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=16, temperature=0, extra_body={"ignore_eos": True}
    )
    (choice,) = completion.choices
    assert completion.object == "chat.completion" and completion.model == MODEL
    assert choice.finish_reason == "length"
    assert isinstance(choice.message.content, str) and choice.message.role == "assistant"
    assert completion.usage.completion_tokens == 16
    assert completion.usage.prompt_tokens == prompt_tokens(gpu_gateway, MESSAGES)


def test_chat_stream_with_usage(gpu_gateway: LiveServer, sdk: openai.OpenAI) -> None:
    chunks = list(
        sdk.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            max_tokens=24,
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"ignore_eos": True},
        )
    )
    role, *contents, finish, usage = chunks
    assert role.choices[0].delta.role == "assistant"
    assert contents and all(c.choices[0].delta.content for c in contents)
    assert all(c.choices[0].finish_reason is None for c in [role, *contents])
    assert finish.choices[0].finish_reason == "length"
    assert usage.choices == []
    assert usage.usage.completion_tokens == 24
    assert usage.usage.prompt_tokens == prompt_tokens(gpu_gateway, MESSAGES)
    assert len({c.id for c in chunks}) == 1


def test_sampling_edges_on_the_engine(sdk: openai.OpenAI) -> None:
    """top_p=0 (sent as greedy) and seeds at both ends of the 64-bit range, n=2, reach the real engine."""
    for seed in (2**63 - 1, -(2**63)):
        completion = sdk.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=8, n=2, seed=seed, extra_body={"ignore_eos": True}
        )
        assert [c.finish_reason for c in completion.choices] == ["length", "length"]
        assert completion.system_fingerprint and completion.system_fingerprint.startswith("fp_")
    greedy = [
        sdk.completions.create(model=MODEL, prompt="The quick brown fox", max_tokens=8, **sampling).choices[0].text
        for sampling in ({"top_p": 0, "temperature": 1.0}, {"temperature": 0})
    ]
    assert greedy[0] == greedy[1]


def test_completions(gpu_gateway: LiveServer, sdk: openai.OpenAI) -> None:
    ids = gpu_gateway.state.registry.get("qwen").engine.tokenizer.encode("Hello, world!", add_special_tokens=False)
    completion = sdk.completions.create(
        model=MODEL, prompt=ids, max_tokens=8, n=2, seed=3, extra_body={"ignore_eos": True}
    )
    assert [c.index for c in completion.choices] == [0, 1]
    assert all(c.finish_reason == "length" for c in completion.choices)
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (len(ids), 16)
    text = sdk.completions.create(
        model=MODEL,
        prompt="The quick brown fox",
        max_tokens=4,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"ignore_eos": True},
    )
    *choices, usage = list(text)
    assert choices[-1].choices[0].finish_reason == "length"
    assert usage.usage.completion_tokens == 4


def test_errors_are_openai_envelopes(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.chat.completions.create(model="gpt-5", messages=MESSAGES)
    assert missing.value.response.json()["error"]["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as too_long:
        sdk.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=MAX_MODEL_LEN)
    error = too_long.value.response.json()["error"]
    assert error["code"] == "context_length_exceeded" and error["param"] == "max_tokens"
    assert f"maximum context length is {MAX_MODEL_LEN} tokens" in error["message"]
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=5)
    assert bad.value.response.json()["error"]["param"] == "temperature"


def test_disconnected_stream_is_aborted(gpu_gateway: LiveServer, sdk: openai.OpenAI) -> None:
    body = {"model": MODEL, "messages": MESSAGES, "max_tokens": LONG, "stream": True, "ignore_eos": True}
    with gpu_gateway.client() as http, http.stream("POST", "/v1/chat/completions", json=body) as response:
        events = [line for line in itertools.islice(response.iter_lines(), 6) if line.startswith("data: ")]
        assert json.loads(events[0].removeprefix("data: "))["choices"][0]["delta"]["role"] == "assistant"
    left = time.monotonic()
    assert wait_idle(gpu_gateway)["state"] == "loaded"
    gone_s = time.monotonic() - left
    # The same generation left to run: the departed one must have stopped well before it would have ended.
    started = time.monotonic()
    completion = sdk.chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=LONG, extra_body={"ignore_eos": True}
    )
    full_s = time.monotonic() - started
    assert completion.usage.completion_tokens == LONG
    assert gone_s < full_s / 2, (gone_s, full_s)


def test_unload_frees_gpu_memory(gpu_gateway: LiveServer, sdk: openai.OpenAI) -> None:
    """Runs last in this module: the slot stays unloaded."""
    with gpu_gateway.client() as http:
        assert http.post("/api/admin/models/qwen/unload").status_code == 202
        deadline = time.monotonic() + 120
        while (status := http.get("/api/admin/models/qwen").json())["state"] in ("loaded", "unloading"):
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
    assert status["state"] == "downloaded", status
    before = status["server"]["gpu_memory_used_mib_before_unload"]
    after = status["server"]["gpu_memory_used_mib_after_unload"]
    assert set(before) == set(after) == {"cuda:0"}
    assert after["cuda:0"] < before["cuda:0"], status["server"]
    assert status["memory_leak_suspected"] is False, status["server"]
    with pytest.raises(openai.APIStatusError) as unloaded:
        sdk.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=4)
    assert unloaded.value.status_code == 503
    assert unloaded.value.response.json()["error"]["code"] == "model_not_loaded"
