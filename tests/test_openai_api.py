"""The OpenAI contract, exercised by the official `openai` SDK against a live gateway (tiny Qwen3)."""

from __future__ import annotations

import json
import threading
import time
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types import completion_create_params
from openai.types.chat import completion_create_params as chat_create_params

from app.services.openai_requests import ChatCompletionRequest, CompletionRequest
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, assert_health_answers_while_templating
from tests.tiny_models import build_tiny_qwen

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello! How are you?"}]


@pytest.fixture(scope="module")
def sdk(gateway: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=CLIENT_KEY, max_retries=0)


def test_models_lists_every_name_a_client_may_use(sdk: openai.OpenAI) -> None:
    models = sdk.models.list()
    assert [m.id for m in models.data] == ["tiny-qwen", "qwen"]
    assert all(m.object == "model" and m.model_extra["root"] == "tiny-qwen" for m in models.data)


def test_chat_non_stream(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(model="tiny-qwen", messages=MESSAGES, max_tokens=12, seed=3)
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "tiny-qwen"
    (choice,) = completion.choices
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str)
    assert choice.finish_reason in ("stop", "length")
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 5
    assert 1 <= usage.completion_tokens <= 12
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_max_tokens_gives_length(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="tiny-qwen", messages=MESSAGES, max_tokens=7, extra_body={"ignore_eos": True}
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == 7


def test_max_completion_tokens_is_honoured(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="tiny-qwen", messages=MESSAGES, max_completion_tokens=5, extra_body={"ignore_eos": True}
    )
    assert completion.usage.completion_tokens == 5
    assert completion.choices[0].finish_reason == "length"


def test_seed_makes_sampling_reproducible(sdk: openai.OpenAI) -> None:
    def sample(seed: int) -> str:
        completion = sdk.chat.completions.create(
            model="tiny-qwen",
            messages=MESSAGES,
            max_tokens=16,
            temperature=1.0,
            top_p=0.9,
            seed=seed,
            extra_body={"ignore_eos": True},
        )
        return completion.choices[0].message.content

    assert sample(11) == sample(11)
    assert len({sample(s) for s in (1, 2, 3)}) > 1


def test_n_choices(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="tiny-qwen", messages=MESSAGES, max_tokens=4, n=3, seed=5, extra_body={"ignore_eos": True}
    )
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert completion.usage.completion_tokens == 12


def test_chat_stream_with_usage(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="tiny-qwen",
        messages=MESSAGES,
        max_tokens=10,
        seed=21,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"ignore_eos": True},
    )
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    first, *middle, last_choice, usage_chunk = chunks
    assert first.choices[0].delta.role == "assistant"
    assert all(c.choices[0].finish_reason is None for c in [first, *middle])
    assert all(c.usage is None for c in [first, *middle, last_choice])
    assert last_choice.choices[0].finish_reason == "length"
    assert usage_chunk.choices == []
    assert usage_chunk.usage.completion_tokens == 10
    assert usage_chunk.usage.total_tokens == usage_chunk.usage.prompt_tokens + 10
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    # The stream's pieces add up to what the same sampled request answers in one piece.
    sampled = sdk.chat.completions.create(
        model="tiny-qwen", messages=MESSAGES, max_tokens=10, seed=21, extra_body={"ignore_eos": True}
    )
    assert streamed and streamed == sampled.choices[0].message.content
    again = sdk.chat.completions.create(
        model="tiny-qwen", messages=MESSAGES, max_tokens=10, temperature=0, extra_body={"ignore_eos": True}
    )
    greedy_stream = sdk.chat.completions.create(
        model="tiny-qwen",
        messages=MESSAGES,
        max_tokens=10,
        temperature=0,
        stream=True,
        extra_body={"ignore_eos": True},
    )
    greedy_text = "".join(c.choices[0].delta.content or "" for c in greedy_stream if c.choices)
    assert greedy_text == again.choices[0].message.content


def test_raw_sse_framing(gateway: LiveServer) -> None:
    body = {"model": "qwen", "messages": MESSAGES, "max_tokens": 3, "stream": True, "ignore_eos": True}
    with gateway.client(CLIENT_KEY) as http, http.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = response.read().decode()
    events = [e for e in raw.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    payloads = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert payloads[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert payloads[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "length"}
    assert "usage" not in payloads[0]


def test_stop_string_ends_generation(sdk: openai.OpenAI) -> None:
    greedy = (
        sdk.completions.create(
            model="tiny-qwen", prompt="The quick brown", max_tokens=20, temperature=0, extra_body={"ignore_eos": True}
        )
        .choices[0]
        .text
    )
    assert len(greedy) > 4
    stop = greedy[2:4]
    stopped = sdk.completions.create(
        model="tiny-qwen", prompt="The quick brown", max_tokens=20, temperature=0, stop=[stop, "never-there"]
    )
    assert stopped.choices[0].finish_reason == "stop"
    assert stopped.choices[0].text == greedy[: greedy.index(stop)]
    streamed = sdk.completions.create(
        model="tiny-qwen", prompt="The quick brown", max_tokens=20, temperature=0, stop=stop, stream=True
    )
    chunks = list(streamed)
    assert "".join(c.choices[0].text for c in chunks) == stopped.choices[0].text
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_completions(sdk: openai.OpenAI) -> None:
    completion = sdk.completions.create(
        model="tiny-qwen", prompt="Hello", max_tokens=6, extra_body={"ignore_eos": True}
    )
    assert completion.object == "text_completion"
    assert completion.id.startswith("cmpl-")
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == 6
    batch = sdk.completions.create(
        model="tiny-qwen", prompt=["Hello", "Bonjour"], max_tokens=2, n=2, extra_body={"ignore_eos": True}
    )
    assert [c.index for c in batch.choices] == [0, 1, 2, 3]
    assert batch.usage.completion_tokens == 8
    tokens = sdk.completions.create(model="tiny-qwen", prompt=[5, 6, 7], max_tokens=2)
    assert tokens.usage.prompt_tokens == 3


def test_completions_stream_with_usage(sdk: openai.OpenAI) -> None:
    chunks = list(
        sdk.completions.create(
            model="tiny-qwen",
            prompt="Hello",
            max_tokens=4,
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"ignore_eos": True},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 4
    assert chunks[-2].choices[0].finish_reason == "length"


def test_model_alias_and_slot_key(sdk: openai.OpenAI) -> None:
    for name in ("qwen", "tiny-qwen"):
        assert sdk.chat.completions.create(model=name, messages=MESSAGES, max_tokens=1).choices


def error_of(exc: openai.APIStatusError) -> dict:
    body = exc.response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_unknown_model_is_404(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.chat.completions.create(model="gpt-5", messages=MESSAGES)
    error = error_of(caught.value)
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "gpt-5" in error["message"]


def test_bad_key_is_401(gateway: LiveServer) -> None:
    bad = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="wrong-key-123456", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.models.list()
    assert error_of(caught.value)["code"] == "invalid_api_key"
    with gateway.client() as http:
        missing = http.get("/v1/models")
    assert missing.status_code == 401
    assert "didn't provide an API key" in missing.json()["error"]["message"]


@pytest.mark.parametrize(
    ("arguments", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": MESSAGES, "temperature": 3}, "temperature"),
        ({"messages": MESSAGES, "max_tokens": 0}, "max_tokens"),
        ({"messages": MESSAGES, "n": 99}, "n"),
        ({"messages": MESSAGES, "stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"messages": MESSAGES, "logprobs": True}, "logprobs"),
        ({"messages": MESSAGES, "tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"messages": MESSAGES, "max_tokens": 100_000}, "max_tokens"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages.0.role"),
        ({"messages": MESSAGES, "stream_options": {"include_usage": True}}, "stream_options"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, "messages"),
        # Fields that need another one, refused as OpenAI does rather than ignored.
        ({"messages": MESSAGES, "top_logprobs": 3}, "top_logprobs"),
        ({"messages": MESSAGES, "logprobs": False, "top_logprobs": 0}, "top_logprobs"),
        ({"messages": MESSAGES, "tool_choice": "auto"}, "tool_choice"),
        ({"messages": MESSAGES, "tool_choice": {"type": "function", "function": {"name": "f"}}}, "tool_choice"),
        ({"messages": MESSAGES, "parallel_tool_calls": False}, "parallel_tool_calls"),
        ({"messages": MESSAGES, "functions": [{"name": "f", "parameters": {"type": "object"}}]}, "functions"),
        ({"messages": MESSAGES, "function_call": "auto"}, "function_call"),
        ({"messages": MESSAGES, "top_logprobs": 21}, "top_logprobs"),
        # seed is a signed 64-bit integer.
        ({"messages": MESSAGES, "seed": 2**63}, "seed"),
        ({"messages": MESSAGES, "seed": -(2**63) - 1}, "seed"),
        ({"messages": MESSAGES, "top_p": -0.1}, "top_p"),
    ],
)
def test_invalid_requests_are_400(sdk: openai.OpenAI, arguments: dict, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="tiny-qwen", **arguments)
    error = error_of(caught.value)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param, error


def test_context_length_message(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="tiny-qwen", messages=MESSAGES, max_tokens=100_000)
    error = error_of(caught.value)
    assert error["code"] == "context_length_exceeded"
    assert "maximum context length is 4096 tokens" in error["message"]


def test_a_prompt_longer_than_the_context_without_max_tokens_is_400(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="tiny-qwen", messages=[{"role": "user", "content": "Hello! " * 5000}])
    error = error_of(caught.value)
    assert (error["code"], error["param"]) == ("context_length_exceeded", "messages")
    assert "tokens in the prompt alone" in error["message"]


def test_malformed_json_is_400(gateway: LiveServer) -> None:
    with gateway.client(CLIENT_KEY) as http:
        response = http.post("/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_request_id_is_echoed(gateway: LiveServer) -> None:
    with gateway.client(ADMIN_KEY) as http:
        response = http.get("/v1/models", headers={"X-Request-ID": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"


# --- chat templates: only the model's own, rendered off the event loop --------------------------------
def test_a_template_from_the_request_is_refused_at_once(gateway: LiveServer) -> None:
    """The issue's reproduction: a client's own Jinja would stall every route while it renders."""
    body = {
        "model": "qwen",
        "max_tokens": 1,
        "messages": [{"role": "user", "content": "x"}],
        "chat_template_kwargs": {
            "chat_template": "{% for i in range(100000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}hi"
        },
    }
    started = time.monotonic()
    with gateway.client(CLIENT_KEY, timeout=10) as http:
        response = http.post("/v1/chat/completions", json=body)
    assert time.monotonic() - started < 2
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "chat_template_kwargs.chat_template"
    assert "enable_thinking" in error["message"]


@pytest.mark.parametrize(
    "name", ["tokenize", "add_generation_prompt", "messages", "tools", "eos_token", "raise_exception", "thinking"]
)
def test_chat_template_kwargs_take_only_the_templates_variables(sdk: openai.OpenAI, name: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="tiny-qwen", messages=MESSAGES, max_tokens=1, extra_body={"chat_template_kwargs": {name: False}}
        )
    error = error_of(caught.value)
    assert (error["param"], error["type"]) == (f"chat_template_kwargs.{name}", "invalid_request_error")
    assert "accepts: enable_thinking" in error["message"]


def test_enable_thinking_reaches_the_template(sdk: openai.OpenAI) -> None:
    def prompt_tokens(**template_kwargs: Any) -> int:
        completion = sdk.chat.completions.create(
            model="tiny-qwen", messages=MESSAGES, max_tokens=1, extra_body={"chat_template_kwargs": template_kwargs}
        )
        return completion.usage.prompt_tokens

    plain = prompt_tokens()
    assert prompt_tokens(enable_thinking=True) == plain
    assert prompt_tokens(enable_thinking=False) > plain  # Qwen3 opens an empty <think></think> block


def test_health_answers_while_a_chat_prompt_is_templated(gateway: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"model": "qwen", "messages": [{"role": "user", "content": "Hello! " * 20_000}], "max_tokens": 1}
    response = assert_health_answers_while_templating(gateway, body, monkeypatch)
    assert response.json()["error"]["code"] == "context_length_exceeded"


def test_completion_prompts_are_tokenized_off_the_event_loop(
    gateway: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gateway.client(CLIENT_KEY) as http:  # the slot loads (lazily)
        assert http.post("/v1/completions", json={"model": "qwen", "prompt": "Hi", "max_tokens": 1})
    builder = gateway.state.registry.get("qwen").prompts
    encode_batch = builder._encode_batch
    encoding, release = threading.Event(), threading.Event()

    def held(texts: list[str]) -> list[list[int]]:
        encoding.set()
        release.wait(10)
        return encode_batch(texts)

    monkeypatch.setattr(builder, "_encode_batch", held)
    results: list[Any] = []
    body = {"model": "qwen", "prompt": ["Hello", "Bonjour " * 600, "Hi"], "max_tokens": 1}
    with gateway.client(CLIENT_KEY) as http:
        thread = threading.Thread(target=lambda: results.append(http.post("/v1/completions", json=body)))
        thread.start()
        try:
            assert encoding.wait(10)
            with gateway.client(timeout=2) as health:
                assert health.get("/health").status_code == 200
        finally:
            release.set()
            thread.join(30)
    (response,) = results
    assert response.status_code == 200
    assert len(response.json()["choices"]) == 3


@pytest.fixture(scope="module")
def empty_template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen3 whose chat template writes the messages' text only, nothing of its own."""
    template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    return build_tiny_qwen(tmp_path_factory.mktemp("bare-template"), chat_template=template)


def test_a_template_that_renders_nothing_is_400(serve: Callable[..., LiveServer], empty_template_dir: Path) -> None:
    server = serve(qwen_model_id=str(empty_template_dir))
    body = {"model": "qwen", "messages": [{"role": "user", "content": ""}], "max_tokens": 1}
    with server.client() as http:
        for stream in (False, True):
            response = http.post("/v1/chat/completions", json={**body, "stream": stream})
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert error["param"] == "messages" and "empty prompt" in error["message"]
        assert http.post("/v1/chat/completions", json={**body, "messages": [{"role": "user", "content": "Hi"}]})


# --- bounded work per request ---------------------------------------------------------------------
def test_generations_per_request_are_bounded(gateway: LiveServer) -> None:
    """The issue's 200 prompts with n=8: refused before any prompt is tokenized (the out-of-vocabulary ids
    would otherwise be the error), and fast."""
    with gateway.client(CLIENT_KEY, timeout=10) as http:
        started = time.monotonic()
        response = http.post(
            "/v1/completions", json={"model": "qwen", "prompt": [[10**9]] * 200, "n": 8, "max_tokens": 1}
        )
        assert time.monotonic() - started < 2
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["param"] == "prompt" and "1600 generations (200 prompt(s), n=8)" in error["message"]
        assert "at most 64" in error["message"]
        ten_by_eight = http.post("/v1/completions", json={"model": "qwen", "prompt": ["Hi"] * 10, "n": 8})
        assert ten_by_eight.json()["error"]["param"] == "n"
        eight_by_eight = {"model": "qwen", "prompt": ["Hi"] * 8, "n": 8, "max_tokens": 1}
        assert len(http.post("/v1/completions", json=eight_by_eight).json()["choices"]) == 64


def test_a_lower_generations_limit(serve: Callable[..., LiveServer]) -> None:
    """Chat's one prompt is bounded by MAX_N, which may not exceed MAX_GENERATIONS_PER_REQUEST."""
    server = serve(max_n=4, max_generations_per_request=4)
    with server.client() as http:
        chat = http.post("/v1/chat/completions", json={"model": "qwen", "messages": MESSAGES, "n": 5})
        assert chat.json()["error"]["param"] == "n"
        batch = http.post("/v1/completions", json={"model": "qwen", "prompt": ["a", "b", "c"], "n": 2})
        assert batch.json()["error"]["param"] == "n"
        five = http.post("/v1/completions", json={"model": "qwen", "prompt": ["a"] * 5})
        assert five.json()["error"]["param"] == "prompt"


# --- null means the default -----------------------------------------------------------------------
def nullable_fields(params: Any, model: type) -> list[str]:
    """Fields OpenAI's API marks nullable (Optional in the official SDK) that the gateway declares, less
    `prompt`: its default is the model's document separator, and the gateway (like vLLM) requires one."""
    hints = typing.get_type_hints(params)
    nullable = [name for name, hint in hints.items() if type(None) in typing.get_args(hint)]
    return sorted(name for name in nullable if name in model.model_fields and name != "prompt")


CHAT_NULLABLE = nullable_fields(chat_create_params.CompletionCreateParamsBase, ChatCompletionRequest)
COMPLETION_NULLABLE = nullable_fields(completion_create_params.CompletionCreateParamsBase, CompletionRequest)


def test_the_sdk_marks_the_issues_fields_nullable() -> None:
    assert {"n", "temperature", "top_p", "stream_options", "seed", "stop"} <= set(CHAT_NULLABLE)
    assert {"n", "temperature", "top_p", "echo", "best_of", "suffix"} <= set(COMPLETION_NULLABLE)


@pytest.mark.parametrize("name", [*CHAT_NULLABLE, "stream", "chat_template_kwargs", "ignore_eos", "tool_choice"])
def test_null_means_the_default_in_chat(gateway: LiveServer, name: str) -> None:
    body = {"model": "qwen", "messages": MESSAGES, "max_tokens": 2, name: None}
    with gateway.client(CLIENT_KEY) as http:
        response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    assert len(response.json()["choices"]) == 1


@pytest.mark.parametrize("name", [*COMPLETION_NULLABLE, "stream"])
def test_null_means_the_default_in_completions(gateway: LiveServer, name: str) -> None:
    body = {"model": "qwen", "prompt": "Hello", "max_tokens": 2, name: None}
    with gateway.client(CLIENT_KEY) as http:
        response = http.post("/v1/completions", json=body)
    assert response.status_code == 200, response.text
    assert len(response.json()["choices"]) == 1


def test_null_is_still_refused_for_required_fields(gateway: LiveServer) -> None:
    with gateway.client(CLIENT_KEY) as http:
        response = http.post("/v1/chat/completions", json={"model": "qwen", "messages": None})
    assert response.status_code == 400 and response.json()["error"]["param"] == "messages"


def test_tool_choice_none_is_neutral(sdk: openai.OpenAI) -> None:
    assert sdk.chat.completions.create(model="tiny-qwen", messages=MESSAGES, max_tokens=1, tool_choice="none").choices


# --- sampling edge values -------------------------------------------------------------------------
def test_top_p_zero_is_greedy(sdk: openai.OpenAI) -> None:
    def text(**sampling: Any) -> str:
        completion = sdk.completions.create(
            model="tiny-qwen", prompt="The quick brown", max_tokens=8, extra_body={"ignore_eos": True}, **sampling
        )
        return completion.choices[0].text

    assert text(top_p=0, temperature=1.5, seed=1) == text(top_p=0, temperature=0.7, seed=2) == text(temperature=0)


@pytest.mark.parametrize("seed", [2**63 - 1, -(2**63)])
def test_extreme_seeds(sdk: openai.OpenAI, seed: int) -> None:
    completion = sdk.chat.completions.create(
        model="tiny-qwen", messages=MESSAGES, max_tokens=8, n=2, seed=seed, extra_body={"ignore_eos": True}
    )
    first, second = (c.message.content for c in completion.choices)
    assert first != second  # choice 1's seed wraps around the 64-bit range instead of repeating choice 0's
    again = sdk.chat.completions.create(
        model="tiny-qwen", messages=MESSAGES, max_tokens=8, n=2, seed=seed, extra_body={"ignore_eos": True}
    )
    assert [c.message.content for c in again.choices] == [first, second]


def test_a_seed_out_of_range_is_400_before_a_stream_starts(gateway: LiveServer) -> None:
    body = {"model": "qwen", "messages": MESSAGES, "max_tokens": 2, "stream": True, "seed": 2**64}
    with gateway.client(CLIENT_KEY) as http:
        response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "seed"


# --- system_fingerprint ---------------------------------------------------------------------------
def test_system_fingerprint_is_a_stable_string(sdk: openai.OpenAI) -> None:
    chat = sdk.chat.completions.create(model="tiny-qwen", messages=MESSAGES, max_tokens=2)
    fingerprint = chat.system_fingerprint
    assert isinstance(fingerprint, str) and fingerprint.startswith("fp_") and len(fingerprint) == 13
    text = sdk.completions.create(model="qwen", prompt="Hello", max_tokens=2)
    assert text.system_fingerprint == fingerprint
    chunks = list(
        sdk.chat.completions.create(
            model="tiny-qwen", messages=MESSAGES, max_tokens=3, stream=True, stream_options={"include_usage": True}
        )
    )
    assert {c.system_fingerprint for c in chunks} == {fingerprint}
    streamed_text = list(sdk.completions.create(model="tiny-qwen", prompt="Hello", max_tokens=3, stream=True))
    assert {c.system_fingerprint for c in streamed_text} == {fingerprint}
