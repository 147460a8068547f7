"""Running one job: the speech pipeline's steps one at a time, with progress per stage.

A job holds a model per piece of work (a group of ASR pieces, one language identification, one diarization
call), not for the whole job: an unload waits for the current piece only, and the job then fails with a
reason. A full queue (other requests' work) is waited out, not answered with a 429.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from app.config import Settings
from app.errors import RateLimitError
from app.infra.audio_io import DecodedAudio
from app.infra.request_records import current_record
from app.infra.tasks import together
from app.models.base import BaseModelWrapper, ModelState
from app.models.types import Diarization, TranscribeOptions, Transcript
from app.services.audio_chunking import transcribe_in_pieces
from app.services.jobs.model import Job, JobFailure, Stage, StageState
from app.services.languages import SpokenLanguage
from app.services.model_registry import ModelRegistry
from app.services.speech import DIARIZATION_MODEL, SpeechPipeline, SpeechResult
from app.slots import Role

T = TypeVar("T")
RESULT_FILE = "result.json"


def write_json(path: Path, body: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body), encoding="utf-8")
    os.replace(temporary, path)


def read_json(path: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return body


class JobRunner:
    """The work of a job between `running` and its end; the service records the end."""

    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        speech: SpeechPipeline,
        save: Callable[[Job], Awaitable[None]],
        folder: Callable[[Job], Path],
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.speech = speech
        self._save = save
        self._folder = folder

    async def work(self, job: Job, source: Path) -> None:
        """Decode `source`, transcribe and/or diarize it, and store the result as `result.json`."""
        async with self._stage(job, "decode"):
            audio = await self.speech.decode(source, wait_unbounded=True)
            job.duration_s = audio.duration_s
        record = current_record()
        if record is not None:
            record.consumed_audio(audio.duration_s, transcribe="asr" in job.stages, diarize="diarization" in job.stages)
        parts: list[Awaitable[Any]] = []
        if "asr" in job.stages:
            parts.append(self._transcribe(job, audio))
        if "diarization" in job.stages:
            parts.append(self._diarize(job, audio))
        outcomes = await together(*parts)
        result = SpeechResult(audio.duration_s, audio.sample_rate)
        if "asr" in job.stages:
            result.transcript, result.options, result.spoken = outcomes.pop(0)
        if "diarization" in job.stages:
            result.diarization = outcomes.pop(0)
        async with self._stage(job, "merge"):
            body = result.assign().to_json(job.task)
            await asyncio.to_thread(write_json, self._folder(job) / RESULT_FILE, body)

    @asynccontextmanager
    async def _stage(self, job: Job, name: str) -> AsyncIterator[None]:
        await self._progress(job, name, 0.0, StageState.RUNNING)
        try:
            yield
        except asyncio.CancelledError:
            job.stages[name].state = StageState.CANCELLED
            raise
        except BaseException:
            job.stages[name].state = StageState.FAILED
            raise
        await self._progress(job, name, 1.0, StageState.SUCCEEDED)

    async def _progress(self, job: Job, name: str, progress: float, state: StageState = StageState.RUNNING) -> None:
        job.stages[name] = Stage(state, progress)
        await self._save(job)

    @staticmethod
    def _hold(wrapper: BaseModelWrapper) -> AbstractAsyncContextManager[None]:
        """Hold the model for one piece of work. Between pieces an unload may take it away; no lazy
        reload then: the admin asked for the model to go."""
        if wrapper.state != ModelState.LOADED:
            raise JobFailure(f"model '{wrapper.key}' was unloaded during the job", "model_unloaded")
        return wrapper.use()

    async def _in_turn(self, wrapper: BaseModelWrapper, work: Callable[[], Awaitable[T]]) -> T:
        """`work` while holding the model. A full queue (other requests' work) is waited out, not held."""
        while True:
            async with self._hold(wrapper):
                try:
                    return await work()
                except RateLimitError as exc:
                    retry = float(exc.headers["Retry-After"])
            await asyncio.sleep(retry)

    async def _transcribe(self, job: Job, audio: DecodedAudio) -> tuple[Transcript, TranscribeOptions, SpokenLanguage]:
        settings, speech = self.settings, self.speech
        async with self._stage(job, "asr"):
            wrapper = await self.registry.loaded(job.options.model, Role.ASR)
            # Checked now too: the model may not have been loaded at submission.
            asked = job.options.transcribe()
            speech.check_languages(wrapper, asked)
            known = speech.known_language(wrapper, asked.language)
            if isinstance(known, SpokenLanguage):
                spoken = known
            else:  # identified (the langid slot loads like any model a job needs)
                if known.wrapper is not wrapper:
                    await self.registry.loaded(known.wrapper.key, Role.LANGUAGE_IDENTIFICATION)
                identify = partial(speech.languages.identify, known, audio, wrapper)
                spoken = await self._in_turn(known.wrapper, identify)
            options = asked.options(spoken.code)
            wrapper.check_options(options)  # a detected language may not translate into the target
            batcher = speech.transcription.batcher(wrapper)

            async def run(pieces: list[Any]) -> list[Transcript]:
                return await self._in_turn(wrapper, partial(batcher.submit, pieces, options))

            transcript = await transcribe_in_pieces(
                audio.samples,
                audio.sample_rate,
                speech.transcription.window_s(wrapper),
                run,
                group=min(settings.asr_batch_size, settings.asr_queue_size),  # a group must fit in the queue
                progress=partial(self._progress, job, "asr"),
            )
        return transcript, options, spoken

    async def _diarize(self, job: Job, audio: DecodedAudio) -> Diarization:
        async with self._stage(job, "diarization"):
            wrapper = await self.registry.loaded(DIARIZATION_MODEL, Role.DIARIZATION)
            return await self._in_turn(wrapper, partial(self.speech.diarize, wrapper, audio, job.options.diarize()))
