"""Long audio as jobs through the live gateway: the tiny real Canary, real uploads, SQLite on disk."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from app.config import Settings
from app.models.roles import DiarizationWrapper
from app.models.types import Diarization, DiarizeOptions, SpeakerTurn
from app.services.jobs import RESTART_REASON
from tests.audio_files import reference_signal, write_wav
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server

OTHER_KEY = "client-b-key-0123456789"


def blocks(count: int) -> np.ndarray:
    """`count` blocks of 4 s of sound and 0.5 s of silence: with 5 s windows, about one ASR piece per block."""
    return np.concatenate([reference_signal(16000, 4.0), np.zeros(8000, np.float32)] * count)


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("job-audio")
    files = {
        "short.wav": write_wav(folder / "short.wav", reference_signal(16000), 16000),
        "two-pieces.wav": write_wav(folder / "two-pieces.wav", blocks(2), 16000),
        "long.wav": write_wav(folder / "long.wav", blocks(26), 16000),
        "too-long.wav": write_wav(folder / "too-long.wav", blocks(28), 16000),
        "garbage.mp3": folder / "garbage.mp3",
        "empty.wav": folder / "empty.wav",
    }
    files["garbage.mp3"].write_bytes(np.random.default_rng(0).bytes(4096))
    files["empty.wav"].write_bytes(b"")
    return files


class EnergyDiarizer(DiarizationWrapper):
    """A stand-in for pyannote in these job-flow tests only (it is no diarization model): each stretch of
    sound between silences (in 0.5 s frames) is one turn, and the speakers alternate. It answers the same
    `diarize` call as the real wrapper."""

    @property
    def replicas(self) -> int:
        return 1

    def __init__(self, folder: Path) -> None:
        super().__init__("pyannote", str(folder), folder, lambda: None)

    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        return {"stand_in": True}

    async def _unload(self) -> None:
        return None

    def diarize(self, samples: np.ndarray, sample_rate: int, options: DiarizeOptions, replica: int = 0) -> Diarization:
        half = sample_rate // 2
        turns: list[SpeakerTurn] = []
        for index, begin in enumerate(range(0, len(samples), half)):
            if float(np.sqrt(np.mean(samples[begin : begin + half] ** 2))) < 0.01:
                continue
            start, end = index / 2, min(index + 1, 2 * len(samples) / sample_rate) / 2
            if turns and turns[-1].end == start:
                turns[-1] = SpeakerTurn(turns[-1].speaker, turns[-1].start, end)
            else:
                turns.append(SpeakerTurn(f"SPEAKER_{len(turns) % 2:02d}", start, end))
        return Diarization(turns, list(turns), sorted({t.speaker for t in turns}))


def job_settings(tmp: Path, canary: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "model_cache_dir": tmp / "cache",
        "data_dir": tmp / "data",
        "canary_model_id": str(canary),
        "enabled_models": ["canary"],
        "openai_api_keys": f"clientA:{CLIENT_KEY},clientB:{OTHER_KEY}",
        "admin_api_keys": f"ops:{ADMIN_KEY}",
        "asr_window_s": 5.0,
        "asr_batch_size": 1,  # one piece per model call: progress moves piece by piece
        "max_audio_seconds": 120.0,
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_canary_nemo: Path) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("jobs")
    stand_in = tmp / "energy-diarizer"
    stand_in.mkdir()
    factories = {"pyannote": lambda settings, token: EnergyDiarizer(stand_in)}
    with live_server(job_settings(tmp, tiny_canary_nemo), wrapper_factories=factories) as live:
        yield live


def submit(live: LiveServer, path: Path, key: str = CLIENT_KEY, **fields: object) -> httpx.Response:
    with live.client(key) as http, path.open("rb") as handle:
        return http.post("/api/jobs", data={"task": "transcribe", **fields}, files={"file": (path.name, handle)})


def get(live: LiveServer, job_id: str, key: str = CLIENT_KEY) -> dict[str, Any]:
    with live.client(key) as http:
        response = http.get(f"/api/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(
    live: LiveServer, job_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = get(live, job_id)
        if done(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} did not get there: {job}")
        time.sleep(0.05)


def finished(job: dict[str, Any]) -> bool:
    return job["state"] in ("succeeded", "failed", "cancelled")


def result(live: LiveServer, job_id: str, fmt: str, key: str = CLIENT_KEY) -> httpx.Response:
    with live.client(key) as http:
        return http.get(f"/api/jobs/{job_id}/result", params={"response_format": fmt})


def error_of(response: httpx.Response) -> dict[str, Any]:
    return response.json()["error"]


def test_transcribe_job_events_progress_and_every_format(server: LiveServer, audio: dict[str, Path]) -> None:
    response = submit(server, audio["two-pieces.wav"], language="en")
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] in ("queued", "running") and job["owner"] == "clientA" and job["created_at"] > 0
    assert set(job["progress"]) == {"decode", "asr", "merge"}
    assert response.headers["location"] == f"/api/jobs/{job['id']}"

    events = []
    with server.client(CLIENT_KEY) as http, http.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[-1]["state"] == "succeeded"
    asr = [e["progress"]["asr"]["progress"] for e in events]
    assert asr == sorted(asr) and any(0 < p < 1 for p in asr), asr

    done = get(server, job["id"])
    assert done["state"] == "succeeded" and done["error"] is None and done["finished_at"] >= done["started_at"]
    assert done["duration"] == pytest.approx(9.0, abs=0.05)
    assert all(s == {"state": "succeeded", "progress": 1.0} for s in done["progress"].values())

    text = result(server, job["id"], "json").json()["text"]
    plain = result(server, job["id"], "text")
    assert plain.headers["content-type"].startswith("text/plain") and plain.text == text
    assert result(server, job["id"], "srt").text.startswith("1\n00:00:00,000 --> ")
    assert result(server, job["id"], "vtt").text.startswith("WEBVTT\n\n")
    verbose = result(server, job["id"], "verbose_json").json()
    assert verbose["task"] == "transcribe" and verbose["language"] == "english" and verbose["text"] == text
    assert verbose["duration"] == pytest.approx(9.0, abs=0.05) and isinstance(verbose["segments"], list)
    for fmt in ("rttm", "diarized_json"):
        misfit = result(server, job["id"], fmt)
        assert misfit.status_code == 400 and error_of(misfit)["param"] == "response_format"
    assert result(server, job["id"], "docx").status_code == 400


def test_decode_failure_ownership_and_listing(server: LiveServer, audio: dict[str, Path]) -> None:
    first = submit(server, audio["garbage.mp3"]).json()
    job = wait_for(server, first["id"], finished)
    assert job["state"] == "failed" and job["error"]["code"] == "unsupported_media_type"
    assert "could not be decoded" in job["error"]["message"]
    assert job["progress"]["decode"]["state"] == "failed" and job["progress"]["asr"]["state"] == "pending"
    conflict = result(server, job["id"], "json")
    assert conflict.status_code == 409 and "could not be decoded" in error_of(conflict)["message"]

    second = submit(server, audio["garbage.mp3"]).json()
    with server.client(CLIENT_KEY) as mine, server.client(OTHER_KEY) as theirs, server.client(ADMIN_KEY) as admin:
        assert mine.post(f"/api/jobs/{job['id']}/cancel").status_code == 409  # already failed
        for response in (
            theirs.get(f"/api/jobs/{job['id']}"),
            theirs.get(f"/api/jobs/{job['id']}/events"),
            theirs.get(f"/api/jobs/{job['id']}/result"),
            theirs.delete(f"/api/jobs/{job['id']}"),
            theirs.post(f"/api/jobs/{job['id']}/cancel"),
            mine.get("/api/jobs/job_unknown"),
        ):
            assert response.status_code == 404 and error_of(response)["code"] == "not_found", response.text
        listed = [j["id"] for j in mine.get("/api/jobs").json()["data"]]
        assert listed.index(second["id"]) < listed.index(job["id"])  # newest first
        assert theirs.get("/api/jobs").json()["data"] == []
        assert admin.get(f"/api/jobs/{job['id']}").json()["owner"] == "clientA"
        assert job["id"] in [j["id"] for j in admin.get("/api/jobs").json()["data"]]
        assert httpx.get(f"{server.base_url}/api/jobs").status_code == 401
    wait_for(server, second["id"], finished)


def test_too_long_audio_fails_in_the_decode_stage(server: LiveServer, audio: dict[str, Path]) -> None:
    decodes = server.state.decoding.stats()["decodes"]
    job = wait_for(server, submit(server, audio["too-long.wav"]).json()["id"], finished)
    assert job["state"] == "failed" and job["error"]["code"] == "payload_too_large"
    assert "MAX_AUDIO_SECONDS" in job["error"]["message"] and job["duration"] is None
    assert server.state.decoding.stats()["decodes"] == decodes + 1  # jobs share the bound on decodes at once


def test_submit_is_checked_before_anything_is_stored(server: LiveServer, audio: dict[str, Path]) -> None:
    cases = [
        ({"task": "summarize"}, "short.wav", 400, "task"),
        ({"model": "whisper-large"}, "short.wav", 404, "model"),
        ({"num_speakers": "2"}, "short.wav", 400, "task"),
        ({"task": "both", "min_speakers": "3", "max_speakers": "2"}, "short.wav", 400, "min_speakers"),
        ({"task": "both", "num_speakers": "256"}, "short.wav", 400, "num_speakers"),  # uint8 in pyannote
        ({"task": "diarize", "min_speakers": "101"}, "short.wav", 400, "min_speakers"),
        ({"task": "diarize", "max_speakers": "300"}, "short.wav", 400, "max_speakers"),
        ({}, "empty.wav", 400, "file"),
    ]
    for fields, name, status, param in cases:
        response = submit(server, audio[name], **fields)
        assert response.status_code == status and error_of(response)["param"] == param, (fields, response.text)


def test_cancel_a_running_job(server: LiveServer, audio: dict[str, Path]) -> None:
    job = submit(server, audio["long.wav"]).json()
    seen: list[dict[str, Any]] = []
    with server.client(CLIENT_KEY) as http, http.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
        lines = (json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: "))
        for event in lines:
            seen.append(event)
            if event["progress"]["asr"]["state"] == "running":
                break
        cancelled = http.post(f"/api/jobs/{job['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        seen += list(lines)
    assert seen[-1]["state"] == "cancelled" and seen[-1]["progress"]["asr"]["state"] == "cancelled"
    assert seen[-1]["progress"]["asr"]["progress"] < 1 and seen[-1]["progress"]["merge"]["state"] == "pending"
    assert get(server, job["id"])["state"] == "cancelled"
    assert result(server, job["id"], "json").status_code == 409
    with server.client(CLIENT_KEY) as http:
        assert http.post(f"/api/jobs/{job['id']}/cancel").json()["state"] == "cancelled"  # idempotent


def test_diarize_and_both_jobs(server: LiveServer, audio: dict[str, Path]) -> None:
    both = submit(server, audio["two-pieces.wav"], task="both", num_speakers="2").json()
    only = submit(server, audio["two-pieces.wav"], task="diarize").json()
    assert set(both["progress"]) == {"decode", "asr", "diarization", "merge"}
    for job in (both, only):
        assert wait_for(server, job["id"], finished)["state"] == "succeeded"

    turns = result(server, only["id"], "json").json()
    assert turns["speakers"] == ["SPEAKER_00", "SPEAKER_01"] and len(turns["segments"]) == 2
    assert result(server, only["id"], "rttm").text.startswith("SPEAKER two-pieces 1 0.000 4.")
    assert result(server, only["id"], "text").status_code == 400

    diarized = result(server, both["id"], "diarized_json").json()
    assert {s["speaker"] for s in diarized["segments"]} <= {"A", "B"} and diarized["segments"]
    assert "[A]" in result(server, both["id"], "srt").text
    assert all("speaker" in s for s in result(server, both["id"], "verbose_json").json()["segments"])
    assert result(server, both["id"], "rttm").text.count("SPEAKER two-pieces") == 2


def test_unload_during_a_job_fails_it_and_the_server_goes_on(server: LiveServer, audio: dict[str, Path]) -> None:
    job = submit(server, audio["long.wav"]).json()
    wait_for(server, job["id"], lambda j: j["progress"]["asr"]["progress"] > 0)
    with server.client(ADMIN_KEY) as admin:
        assert admin.post("/api/admin/models/canary/unload").status_code == 202
    failed = wait_for(server, job["id"], finished)
    assert failed["state"] == "failed" and failed["progress"]["asr"]["state"] == "failed"
    assert failed["error"] == {"code": "model_unloaded", "message": "model 'canary' was unloaded during the job"}
    server.wait_for_state("canary", "downloaded")
    again = submit(server, audio["short.wav"]).json()  # loads the model again, lazily
    assert wait_for(server, again["id"], finished)["state"] == "succeeded"


def test_jobs_survive_a_restart(tmp_path: Path, tiny_canary_nemo: Path, audio: dict[str, Path]) -> None:
    # Without lazy loading the resumed job must wait for the preload rather than fail.
    settings = job_settings(tmp_path, tiny_canary_nemo, jobs_concurrency=1, max_upload_mb=4.0, lazy_load_models=False)
    oversized = tmp_path / "oversized.wav"
    oversized.write_bytes(bytes(5 * 2**20))
    with live_server(settings) as first:
        assert submit(first, oversized).status_code == 413
        diarize = submit(first, audio["short.wav"], task="diarize")
        assert diarize.status_code == 400 and error_of(diarize)["param"] == "task"  # no diarization model here
        done = submit(first, audio["short.wav"]).json()
        assert wait_for(first, done["id"], finished)["state"] == "succeeded"
        text = result(first, done["id"], "text").text
        running = submit(first, audio["long.wav"]).json()
        wait_for(first, running["id"], lambda j: j["progress"]["asr"]["state"] == "running")
        queued = submit(first, audio["short.wav"]).json()
        assert get(first, queued["id"])["state"] == "queued"  # one job at a time
        first.state.jobs.heartbeat_s = 0.2
        with first.client(CLIENT_KEY) as http, http.stream("GET", f"/api/jobs/{queued['id']}/events") as stream:
            lines = stream.iter_lines()
            assert json.loads(next(lines)[6:])["state"] == "queued" and next(lines) == ""
            assert next(lines) == ": keep-alive"  # nothing changed for 0.2 s
    with live_server(settings) as second:
        assert get(second, done["id"])["state"] == "succeeded"
        assert result(second, done["id"], "text").text == text
        interrupted = get(second, running["id"])
        assert interrupted["state"] == "failed" and interrupted["progress"]["decode"]["state"] == "succeeded"
        assert interrupted["error"] == {"code": "server_restarted", "message": RESTART_REASON}
        assert "running" not in {s["state"] for s in interrupted["progress"].values()}
        assert wait_for(second, queued["id"], finished)["state"] == "succeeded"
        with second.client(CLIENT_KEY) as http:
            listed = [j["id"] for j in http.get("/api/jobs").json()["data"]]
        assert listed == [queued["id"], running["id"], done["id"]]
    assert not list((tmp_path / "data" / "files").glob("*/input*"))  # uploads go once their job has ended


class BrokenDiarizer(EnergyDiarizer):
    """Fails the way a bug or a full disk would: an unexpected exception naming a server path."""

    def diarize(self, samples: np.ndarray, sample_rate: int, options: DiarizeOptions, replica: int = 0) -> Diarization:
        raise OSError(f"[Errno 28] No space left on device: '{self.local_path}/scratch.bin'")


def test_an_unexpected_failure_shows_its_owner_no_server_path(
    tmp_path: Path, tiny_canary_nemo: Path, audio: dict[str, Path]
) -> None:
    stand_in = tmp_path / "private-diarizer"
    stand_in.mkdir()
    factories = {"pyannote": lambda settings, token: BrokenDiarizer(stand_in)}
    with live_server(job_settings(tmp_path, tiny_canary_nemo), wrapper_factories=factories) as live:
        job = submit(live, audio["short.wav"], task="diarize").json()
        ended = wait_for(live, job["id"], finished)
    assert ended["state"] == "failed" and ended["error"]["code"] == "internal_error"
    assert str(tmp_path) not in json.dumps(ended)
    assert job["id"] in ended["error"]["message"]


def test_delete_removes_a_finished_job_and_its_files(server: LiveServer, audio: dict[str, Path]) -> None:
    files = server.state.settings.jobs_dir / "files"
    running = submit(server, audio["long.wav"]).json()
    done = submit(server, audio["short.wav"]).json()
    assert wait_for(server, done["id"], finished)["state"] == "succeeded"
    assert (files / done["id"] / "result.json").is_file()
    with server.client(CLIENT_KEY) as mine, server.client(OTHER_KEY) as theirs:
        assert theirs.delete(f"/api/jobs/{done['id']}").status_code == 404
        deleted = mine.delete(f"/api/jobs/{done['id']}")
        assert deleted.status_code == 204 and deleted.content == b""
        assert mine.get(f"/api/jobs/{done['id']}").status_code == 404
        assert mine.delete(f"/api/jobs/{done['id']}").status_code == 404
        assert done["id"] not in [j["id"] for j in mine.get("/api/jobs").json()["data"]]
        cancelled = mine.delete(f"/api/jobs/{running['id']}")  # running: DELETE cancels it, as it always did
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        assert mine.post(f"/api/jobs/{running['id']}/cancel").json()["state"] == "cancelled"  # cancelling again: same
        assert mine.delete(f"/api/jobs/{running['id']}").status_code == 204  # a cancelled job is finished
    assert not (files / done["id"]).exists() and not (files / running["id"]).exists()


def test_the_bound_on_queued_jobs_and_the_retention_of_old_ones(
    tmp_path: Path, tiny_canary_nemo: Path, audio: dict[str, Path]
) -> None:
    # A jobs folder as the previous version left it: one job finished 40 days ago, one an hour ago.
    from tests.test_jobs_store import old_row, unversioned_database

    files = tmp_path / "data" / "files"
    for job_id in ("job_old", "job_recent"):
        (files / job_id).mkdir(parents=True)
    stored = {
        "task": "transcribe", "duration": 9.0, "language": "en", "translated": False,
        "transcript": {"text": "hello there", "words": [], "segments": [{"text": "hello there", "start": 0, "end": 2}]},
    }  # fmt: skip
    (files / "job_recent" / "result.json").write_text(json.dumps(stored))
    (files / "job_old" / "result.json").write_text(json.dumps(stored))
    unversioned_database(
        tmp_path / "data" / "jobs.sqlite3",
        [
            old_row("job_old", "succeeded", time.time() - 40 * 86400),
            old_row("job_recent", "succeeded", time.time() - 3600),
        ],
    )
    settings = job_settings(tmp_path, tiny_canary_nemo, jobs_concurrency=1, jobs_max_queued=2, jobs_retention_days=30)
    with live_server(settings) as live:
        assert not (files / "job_old").exists()
        with live.client(CLIENT_KEY) as http:
            assert http.get("/api/jobs/job_old").status_code == 404
            # A result stored by the previous version renders as before.
            assert http.get("/api/jobs/job_recent/result").json() == {"text": "hello there", "language": "en"}
            srt = http.get("/api/jobs/job_recent/result", params={"response_format": "srt"}).text
            assert srt == "1\n00:00:00,000 --> 00:00:02,000\nhello there\n"
        first = submit(live, audio["long.wav"]).json()
        second = submit(live, audio["long.wav"]).json()
        refused = submit(live, audio["short.wav"], key=OTHER_KEY)
        assert refused.status_code == 429 and error_of(refused)["code"] == "too_many_jobs"
        assert "JOBS_MAX_QUEUED=2" in error_of(refused)["message"] and int(refused.headers["retry-after"]) >= 1
        assert not list(files.glob("*/input*.wav"))[2:]  # the refused upload was never stored
        with live.client(CLIENT_KEY) as http:
            assert http.post(f"/api/jobs/{first['id']}/cancel").json()["state"] == "cancelled"
        assert submit(live, audio["short.wav"], key=OTHER_KEY).status_code == 202  # room again
        with live.client(CLIENT_KEY) as http:
            http.post(f"/api/jobs/{second['id']}/cancel")
