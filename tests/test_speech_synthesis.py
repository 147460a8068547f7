"""Text to speech through the live gateway: tiny real VITS checkpoints (transformers), the official `openai`
SDK, every response format decoded with FFmpeg, streaming, batching, the queue's bound, disconnects."""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import psutil
import pytest

from app.config import Settings, SettingsError, load_settings
from app.models.types import SynthesisOptions
from app.models.vits import OPENAI_VOICES, VitsSpeechModel, voice_table
from app.services.speech_synthesis import MAX_INPUT_CHARS, MAX_PIECE_CHARS, split_text
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server
from tests.tiny_tts import build_tiny_vits

FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
CODECS = {"mp3": "mp3", "opus": "opus", "aac": "aac", "flac": "flac", "wav": "pcm_s16le", "pcm": "pcm_s16le"}
TEXT = "Hello there. This is the gateway speaking, sentence by sentence!"
HOLD = "hold"
"""A piece holding this word is held by the gated slot until the test releases it."""


class GatedVits(VitsSpeechModel):
    """The 2-speaker tiny VITS, whose batches holding a piece with HOLD wait for `release`: a test can
    keep the model busy while it looks at what the gateway does meanwhile."""

    def __init__(self, settings: Settings, token_provider: Callable[[], str | None]) -> None:
        super().__init__(settings, token_provider, key="gated")
        self.holding = threading.Event()
        self.release = threading.Event()
        self.pieces_done = 0

    def synthesize(self, texts: list[str], options: SynthesisOptions) -> list[Any]:
        if any(HOLD in text for text in texts):
            self.holding.set()
            assert self.release.wait(30), "the test never released the held batch"
        audios = super().synthesize(texts, options)
        self.pieces_done += len(texts)
        return audios

    def reset(self) -> None:
        self.holding.clear()
        self.release.clear()


@pytest.fixture(scope="module")
def tts_models(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    return {n: build_tiny_vits(tmp_path_factory.mktemp("tiny-vits") / f"tiny-vits-{n}", n) for n in (1, 2)}


@pytest.fixture(scope="module")
def tts(
    tmp_path_factory: pytest.TempPathFactory, tiny_qwen_dir: Path, tts_models: dict[int, Path]
) -> Iterator[LiveServer]:
    settings = Settings(
        _env_file=None,
        model_cache_dir=tmp_path_factory.mktemp("cache"),
        qwen_model_id=str(tiny_qwen_dir),
        tts_model_id=str(tts_models[1]),
        enabled_models=["qwen", "tts"],
        openai_api_keys=f"clientA:{CLIENT_KEY}",
        admin_api_keys=f"ops:{ADMIN_KEY}",
        tts_batch_size=4,
        tts_queue_size=64,
        log_level="warning",
    )
    gated = settings.model_copy(update={"tts_model_id": str(tts_models[2]), "tts_model_aliases": []})
    with live_server(settings, wrapper_factories={"gated": lambda _, tokens: GatedVits(gated, tokens)}) as server:
        yield server


@pytest.fixture(scope="module")
def sdk(tts: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{tts.base_url}/v1", api_key=CLIENT_KEY, max_retries=0)


@pytest.fixture
def gated(tts: LiveServer) -> Iterator[GatedVits]:
    wrapper = tts.state.registry.get("gated")
    wrapper.reset()
    yield wrapper
    wrapper.release.set()
    queue = tts.state.services["speech_synthesis"].queue(wrapper)
    wait_until(lambda: queue.batcher.waiting == 0 and queue.streaming == 0 and queue.reserved == 0)


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def probe(data: bytes, audio_format: str, folder: Path) -> dict[str, Any]:
    """FFmpeg's view of an encoded answer: its stream's codec, rate and channels, and the samples decoded."""
    path = folder / f"speech.{audio_format}"
    path.write_bytes(data)
    raw = ["-f", "s16le", "-ar", "24000", "-ac", "1"] if audio_format == "pcm" else []
    shown = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            *raw,
            "-show_entries",
            "stream=codec_name,sample_rate,channels",
            "-of",
            "json",
            path,
        ],
        capture_output=True,
        check=True,
        text=True,
    )
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", *raw, "-i", path, "-f", "s16le", "-ac", "1", "-ar", "24000", "pipe:1"],
        capture_output=True,
        check=True,
    )
    return {**json.loads(shown.stdout)["streams"][0], "samples": len(decoded.stdout) // 2}


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


def speech(server: LiveServer, **body: Any) -> httpx.Response:
    with server.client(CLIENT_KEY) as http:
        return http.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": TEXT, **body})


# --- the OpenAI SDK, every format ----------------------------------------------------------------------
@pytest.mark.parametrize("audio_format", FORMATS)
def test_sdk_create_and_streaming_response_in_every_format(
    sdk: openai.OpenAI, audio_format: Any, tmp_path: Path
) -> None:
    raw = sdk.audio.speech.with_raw_response.create(
        model="tts-1", voice="alloy", input=TEXT, response_format=audio_format, instructions="Speak calmly."
    )
    assert raw.headers["content-type"] == CONTENT_TYPES[audio_format]
    created = raw.parse().content
    with sdk.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="nova", input=TEXT, response_format=audio_format, speed=1.5
    ) as response:
        assert response.headers["content-type"] == CONTENT_TYPES[audio_format]
        streamed = b"".join(response.iter_bytes())
    for data in (created, streamed):
        found = probe(data, audio_format, tmp_path)
        assert found["codec_name"] == CODECS[audio_format] and found["channels"] == 1
        # Opus always decodes at 48 kHz; what went in was 24 kHz, like every other format.
        assert int(found["sample_rate"]) == (48000 if audio_format == "opus" else 24000)
        assert found["samples"] > 2400  # more than 0.1 s of speech
    if audio_format == "wav":
        assert created[:4] == b"RIFF" and created[4:8] == b"\xff\xff\xff\xff"  # a header made for streaming


def test_pcm_is_24khz_16_bit_and_counted_as_generated_audio(tts: LiveServer) -> None:
    queue = tts.state.services["speech_synthesis"].queue(tts.state.registry.get("tts"))
    before = queue.audio_seconds
    response = speech(tts, response_format="pcm")
    assert response.status_code == 200 and len(response.content) % 2 == 0
    wait_until(lambda: queue.streaming == 0)
    generated = queue.audio_seconds - before  # counted at the model's 16 kHz
    assert len(response.content) / 2 / 24000 == pytest.approx(generated, abs=0.01)
    with tts.client(ADMIN_KEY) as http:
        metrics = http.get("/metrics").text
    line = next(
        m for m in metrics.splitlines() if m.startswith("gateway_audio_seconds_total{") and 'task="speech"' in m
    )
    assert float(line.split()[-1]) >= generated > 0


def test_speed_is_the_models_speaking_rate(tts: LiveServer) -> None:
    text = "The same words, spoken slowly and then quickly."
    slow = speech(tts, input=text, response_format="pcm", speed=0.25).content
    fast = speech(tts, input=text, response_format="pcm", speed=4.0).content
    assert len(slow) > 4 * len(fast) > 0


# --- voices ------------------------------------------------------------------------------------------
def test_voices_of_a_multi_speaker_checkpoint(tts: LiveServer, sdk: openai.OpenAI) -> None:
    for voice in ("speaker_1", "alloy", "ash", "cedar"):
        assert sdk.audio.speech.create(
            model="tiny-vits-2", voice=voice, input="Hi there.", response_format="pcm"
        ).content
    assert speech(tts, model="gated", voice={"id": "speaker_0"}).status_code == 200
    error = error_of(refused := speech(tts, model="gated", voice="speaker_2"))
    assert refused.status_code == 400 and error["param"] == "voice"
    assert "alloy" in error["message"] and "speaker_1" in error["message"]


def test_voice_table() -> None:
    assert voice_table(1, {}) == {**dict.fromkeys(OPENAI_VOICES, 0), "speaker_0": 0}
    two = voice_table(2, {})
    assert (two["alloy"], two["ash"], two["ballad"], two["speaker_1"]) == (0, 1, 0, 1)
    assert voice_table(3, {"narrator": 2}) == {"narrator": 2, "speaker_0": 0, "speaker_1": 1, "speaker_2": 2}
    with pytest.raises(ValueError, match="TTS_VOICES names speakers the checkpoint lacks"):
        voice_table(2, {"narrator": 2})
    assert Settings(_env_file=None, tts_voices="narrator:1, host:0").tts_voices == {"narrator": 1, "host": 0}
    with pytest.raises(SettingsError, match=r"TTS_VOICES: .*'narrator'.* is not name:speaker_id"):
        load_settings(_env_file=None, tts_voices="narrator")


# --- bad requests: JSON errors before any audio ----------------------------------------------------
@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"voice": "bob"}, "voice"),
        ({"voice": 3}, "voice"),
        ({"input": ""}, "input"),
        ({"input": "x" * (MAX_INPUT_CHARS + 1)}, "input"),
        ({"input": " \n\n "}, "input"),
        ({"input": 42}, "input"),
        ({"speed": 0.2}, "speed"),
        ({"speed": 4.5}, "speed"),
        ({"speed": "fast"}, "speed"),
        ({"response_format": "ogg"}, "response_format"),
        ({"stream_format": "sse"}, "stream_format"),
        ({"instructions": ["calm"]}, "instructions"),
    ],
)
def test_bad_requests_are_400_envelopes(tts: LiveServer, body: dict[str, Any], param: str) -> None:
    response = speech(tts, **body)
    assert response.status_code == 400 and response.headers["content-type"] == "application/json"
    error = error_of(response)
    assert error["param"] == param and error["type"] == "invalid_request_error"
    if body.get("voice") == "bob":
        assert "use one of alloy, ash" in error["message"] and "speaker_0" in error["message"]


def test_the_longest_input_is_accepted(tts: LiveServer) -> None:
    words = " ".join(random.Random(0).choice(["alpha", "beta.", "gamma,", "delta!"]) for _ in range(1000))
    response = speech(tts, input=words[:MAX_INPUT_CHARS], response_format="pcm")
    assert response.status_code == 200 and len(response.content) > 0


def test_models_of_other_kinds_and_unknown_models_are_404(tts: LiveServer) -> None:
    wrong = speech(tts, model="qwen")
    assert wrong.status_code == 404 and error_of(wrong)["code"] == "wrong_model_kind"
    assert "/v1/chat/completions" in error_of(wrong)["message"]
    unknown = speech(tts, model="tts-2")
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "model_not_found"
    with tts.client(CLIENT_KEY) as http:
        chat = http.post(
            "/v1/chat/completions", json={"model": "tts-1", "messages": [{"role": "user", "content": "Hi"}]}
        )
    assert chat.status_code == 404 and error_of(chat)["code"] == "wrong_model_kind"


def test_split_text_bounds_the_pieces() -> None:
    assert split_text("Hi. How are you?  Fine!\n\nNext") == ["Hi.", "How are you? Fine! Next"]
    rng = random.Random(1)
    for _ in range(20):
        words = [
            rng.choice(["a", "word", "longerword", "x" * 300]) + rng.choice(["", ".", ",", "!"]) for _ in range(900)
        ]
        pieces = split_text(" ".join(words)[:MAX_INPUT_CHARS])
        assert len(pieces) <= 2 * MAX_INPUT_CHARS // MAX_PIECE_CHARS + 2
        assert max(map(len, pieces)) <= MAX_PIECE_CHARS


# --- streaming, batching, the queue's bound, disconnects (the gated slot) -------------------------------
def test_the_first_sentence_is_heard_before_the_rest_is_synthesised(tts: LiveServer, gated: GatedVits) -> None:
    with tts.client(CLIENT_KEY) as http:
        body = {
            "model": "gated",
            "voice": "alloy",
            "response_format": "pcm",
            "input": f"First one here. Then {HOLD} on.",
        }
        with http.stream("POST", "/v1/audio/speech", json=body) as response:
            assert response.status_code == 200
            chunks = response.iter_bytes()
            first = next(chunks)
            # Audio has arrived, and the second piece cannot have been synthesised: it waits for `release`.
            assert first and not gated.release.is_set()
            assert gated.holding.wait(20)
            gated.release.set()
            rest = b"".join(chunks)
    assert len(rest) > 0


def test_concurrent_requests_share_batches(tts: LiveServer, gated: GatedVits) -> None:
    service = tts.state.services["speech_synthesis"]
    queue = service.queue(gated)
    before = service.batch_sizes()["gated"]

    def ask(text: str) -> int:
        return speech(tts, model="gated", input=text, response_format="wav").status_code

    with ThreadPoolExecutor(4) as pool:
        held = pool.submit(ask, f"Go now. {HOLD} this.")
        assert gated.holding.wait(20)
        others = [pool.submit(ask, f"Request number {i} speaks.") for i in range(3)]
        wait_until(lambda: queue.batcher.waiting == 3)  # their first pieces wait behind the held batch
        gated.release.set()
        assert held.result() == 200 and [o.result() for o in others] == [200, 200, 200]
    after = service.batch_sizes()["gated"]
    assert sum(after[3:]) > sum(before[3:])  # the three first pieces went in one batch


def test_a_full_queue_is_429_with_retry_after(tts: LiveServer, gated: GatedVits) -> None:
    queue = tts.state.services["speech_synthesis"].queue(gated)
    many = " ".join(["x" * 200 + "."] * 20)  # 20 pieces, the most a request of 4096 characters holds is ~35
    assert len(split_text(many)) == 20
    opened = queue.requests
    with ThreadPoolExecutor(3) as pool:
        held = pool.submit(speech, tts, model="gated", input=f"Go now. {HOLD} this. {many}", response_format="pcm")
        assert gated.holding.wait(20)
        admitted = [pool.submit(speech, tts, model="gated", input=many, response_format="pcm") for _ in range(2)]
        # 20 pieces of the held request wait or are held, 2 x 20 are admitted: 20 more do not fit in 64.
        wait_until(lambda: queue.requests == opened + 3)
        refused = speech(tts, model="gated", input=many, response_format="pcm")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        error = error_of(refused)
        assert error["code"] == "queue_full" and "TTS_QUEUE_SIZE" in error["message"]
        gated.release.set()
        assert held.result().status_code == 200 and [a.result().status_code for a in admitted] == [200, 200]


def test_a_client_that_leaves_stops_synthesis_and_ffmpeg(tts: LiveServer, gated: GatedVits) -> None:
    queue = tts.state.services["speech_synthesis"].queue(gated)
    done_before = gated.pieces_done
    body = {"model": "gated", "voice": "alloy", "response_format": "mp3", "input": f"Start. {HOLD} " + "y " * 2000}
    pieces = split_text(body["input"])
    with tts.client(CLIENT_KEY) as http, http.stream("POST", "/v1/audio/speech", json=body) as response:
        assert response.status_code == 200
        assert gated.holding.wait(20)
        assert [p for p in psutil.Process().children() if p.name() == "ffmpeg"]
    # The client has gone: the stream ends, FFmpeg is killed and the model let go, with the batch still held.
    wait_until(lambda: queue.streaming == 0 and gated.in_use == 0 and queue.reserved == 0)
    assert not [p for p in psutil.Process().children() if p.name() == "ffmpeg"]
    batches = queue.batcher.batches_run
    gated.release.set()
    wait_until(lambda: queue.batcher.batches_run > batches and queue.batcher.waiting == 0)
    # The held batch ended; the pieces queued behind it were dropped, never synthesised.
    assert gated.pieces_done - done_before <= 1 + tts.state.settings.tts_batch_size < len(pieces)


# --- status, load and unload ---------------------------------------------------------------------------
def test_status_section_and_admin_load_unload(tts: LiveServer) -> None:
    assert speech(tts).status_code == 200
    with tts.client(ADMIN_KEY) as http:
        status = http.get("/api/admin/status").json()
        section = status["speech_batching"]["tts"]
        assert section["requests"] >= 1 and section["batches_run"] >= 1 and section["time_to_first_audio_s"] > 0
        model = next(m for m in status["models"] if m["key"] == "tts")
        assert model["kind"] == "tts" and "tts-1" in model["served_names"] and model["state"] == "loaded"
        assert http.post("/api/admin/models/tts/unload", json={"wait": True}).status_code in (200, 202)
        tts.wait_for_state("tts", "downloaded")
        assert speech(tts, model="tts").status_code == 200  # lazy loading is on: the request loads it again
        assert http.post("/api/admin/models/tts/unload", json={"wait": True}).status_code in (200, 202)
        tts.wait_for_state("tts", "downloaded")
        assert http.post("/api/admin/models/tts/load", json={}).status_code in (200, 202)
        tts.wait_for_state("tts", "loaded")
        models = {m["id"] for m in http.get("/v1/models").json()["data"]}
    assert {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "tts", "tiny-vits-1", "gated"} <= models
