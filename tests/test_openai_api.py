"""The OpenAI contract, exercised by the official `openai` SDK against a live gateway (tiny Qwen3)."""

from __future__ import annotations

import json

import openai
import pytest

from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer

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
    assert isinstance(streamed, str)


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


def test_malformed_json_is_400(gateway: LiveServer) -> None:
    with gateway.client(CLIENT_KEY) as http:
        response = http.post("/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_request_id_is_echoed(gateway: LiveServer) -> None:
    with gateway.client(ADMIN_KEY) as http:
        response = http.get("/v1/models", headers={"X-Request-ID": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
