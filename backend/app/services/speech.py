"""One speech pipeline, free of HTTP: decode → (spoken language) → split → batch → join → (diarize →
assign speakers), ending in a `SpeechResult` that `speech_formats.render` turns into any response format.

Synchronous requests run it whole (`SpeechPipeline.run`): the models are held for the request and a lazy
load is waited out with its timeout. The jobs runner runs the same steps one at a time
(`SpeechPipeline.decode`, `transcribe_in_pieces`, `SpeechPipeline.diarize`, `SpeechResult.assign`),
holding a model per piece of work and reporting progress between pieces.
"""

from __future__ import annotations

from collections.abc import Awaitable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from app.config import Settings
from app.errors import InvalidRequestError
from app.infra.audio_io import AudioDecoding, DecodedAudio
from app.infra.request_records import current_record
from app.infra.tasks import together
from app.models.roles import ASRWrapper, DiarizationWrapper
from app.models.types import Diarization, DiarizeOptions, SpeakerTurn, TimedText, TranscribeOptions, Transcript
from app.services.asr_service import TranscriptionService
from app.services.diarization_service import DiarizationService
from app.services.languages import Identifier, LanguageService, SpokenLanguage, check_language
from app.services.model_registry import ModelRegistry
from app.services.speakers import SpeakerSegment, assign_speakers
from app.services.transcripts import TranscribeRequest
from app.slots import Role

DIARIZATION_MODEL = "pyannote"
"""The slot every diarization runs on (the diarization routes, `diarize=true`, jobs)."""


@dataclass(frozen=True, slots=True)
class SpeechTask:
    """What to do with one audio file: transcribe it (`asr_model` and `transcribe`), diarize it, or both."""

    asr_model: str | None = None
    transcribe: TranscribeRequest | None = None
    diarize: DiarizeOptions | None = None

    def __post_init__(self) -> None:
        if (self.asr_model is None) != (self.transcribe is None):
            raise ValueError("a transcription needs both asr_model and transcribe")


@dataclass(slots=True)
class SpeechResult:
    """What the pipeline found in one audio file; the samples themselves are not kept."""

    duration_s: float
    sample_rate: int = 16000
    transcript: Transcript | None = None
    options: TranscribeOptions | None = None
    """The options the transcription ran with (the settled spoken language, the output language)."""
    spoken: SpokenLanguage | None = None
    """The spoken language the transcription used (given, detected or the default)."""
    diarization: Diarization | None = None
    speakers: list[SpeakerSegment] | None = field(default=None)
    """Who said what: the transcript's words assigned to the diarization's speakers (both present)."""

    def assign(self) -> SpeechResult:
        """Fill `speakers` when the result has both a transcript and a diarization."""
        if self.transcript is not None and self.diarization is not None:
            self.speakers = assign_speakers(self.transcript, self.diarization.exclusive, self.duration_s)
        return self

    @property
    def translated(self) -> bool:
        return self.options is not None and self.options.target_lang != self.options.source_lang

    # The jobs keep results as JSON (`result.json`); this is its shape, readable by every version since.
    def to_json(self, task: str) -> dict[str, Any]:
        body: dict[str, Any] = {"task": task, "duration": self.duration_s}
        if self.transcript is not None and self.options is not None:
            body["language"] = self.options.target_lang
            if self.spoken is not None:
                body["source_language"] = self.spoken.code
                body["source_language_origin"] = self.spoken.origin
            body["translated"] = self.translated
            body["transcript"] = {
                "text": self.transcript.text,
                "words": _timed(self.transcript.words),
                "segments": _timed(self.transcript.segments),
            }
        if self.diarization is not None:
            body["diarization"] = {
                "speakers": self.diarization.speakers,
                "turns": _turns(self.diarization.turns),
                "exclusive": _turns(self.diarization.exclusive),
            }
        if self.speakers is not None:
            body["speaker_segments"] = [
                {"speaker": s.speaker, "start": s.start, "end": s.end, "text": s.text} for s in self.speakers
            ]
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> SpeechResult:
        """A stored result; results stored before the spoken language was kept have no `source_language`."""
        result = cls(float(body["duration"]))
        stored = body.get("transcript")
        if stored is not None:
            result.transcript = Transcript(
                stored["text"], [TimedText(**w) for w in stored["words"]], [TimedText(**s) for s in stored["segments"]]
            )
            target = cast(str, body["language"])
            source = body.get("source_language") or (None if body.get("translated") else target)
            result.options = TranscribeOptions(source, target, timestamps=True)
            if "source_language" in body:
                result.spoken = SpokenLanguage(body["source_language"], body["source_language_origin"])
        diarization = body.get("diarization")
        if diarization is not None:
            result.diarization = Diarization(
                [SpeakerTurn(**t) for t in diarization["turns"]],
                [SpeakerTurn(**t) for t in diarization["exclusive"]],
                list(diarization["speakers"]),
            )
        if "speaker_segments" in body:
            result.speakers = [SpeakerSegment(**s) for s in body["speaker_segments"]]
        return result


def _timed(items: list[TimedText]) -> list[dict[str, Any]]:
    return [{"text": t.text, "start": t.start, "end": t.end} for t in items]


def _turns(turns: list[SpeakerTurn]) -> list[dict[str, Any]]:
    return [{"speaker": t.speaker, "start": t.start, "end": t.end} for t in turns]


def check_speaker_counts(options: DiarizeOptions) -> None:
    low, high = options.min_speakers, options.max_speakers
    if low is not None and high is not None and low > high:
        raise InvalidRequestError("min_speakers must not exceed max_speakers", param="min_speakers")
    if options.num_speakers is not None and (low is not None or high is not None):
        raise InvalidRequestError("give num_speakers, or min_speakers/max_speakers, not both", param="num_speakers")


class SpeechPipeline:
    """The speech steps over their collaborators: the model registry, the decoder, the ASR batchers, the
    language identification and the diarization queues."""

    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        decoding: AudioDecoding,
        transcription: TranscriptionService,
        languages: LanguageService,
        diarization: DiarizationService,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.decoding = decoding
        self.transcription = transcription
        self.languages = languages
        self.diarization_service = diarization

    # --- the steps ------------------------------------------------------------------------------------
    async def decode(self, source: Path, *, wait_unbounded: bool = False) -> DecodedAudio:
        """The audio of `source`, counted against the request's (or job run's) record."""
        return await self.decoding.decode(source, wait_unbounded=wait_unbounded)

    def check_languages(self, asr: ASRWrapper, asked: TranscribeRequest) -> None:
        """The languages a request gives, against the loaded model's list and what it can do with them (a
        detected language is checked again once known: `ASRWrapper.check_options`)."""
        check_language(asked.language, "language", asr.runtime.server)
        check_language(asked.target_language, "target_language", asr.runtime.server)
        if asked.language is not None:
            asr.check_options(asked.options(asked.language))

    def known_language(self, asr: ASRWrapper, given: str | None) -> SpokenLanguage | Identifier:
        """The spoken language when it is known before decoding (given, or the default), else the model
        that will identify it."""
        if given is not None:
            return SpokenLanguage(given)
        identifier = self.languages.identifier(asr)
        return self.languages.default(asr) if identifier is None else identifier

    async def diarize(self, diarizer: DiarizationWrapper, audio: DecodedAudio, options: DiarizeOptions) -> Diarization:
        return await self.diarization_service.diarize(diarizer, audio, options)

    # --- a whole request ------------------------------------------------------------------------------
    async def run(self, source: Path, task: SpeechTask) -> SpeechResult:
        """Transcribe and/or diarize the audio file `source` for a synchronous request: the models are
        held until the end, the ASR batches are told the upload is on its way while it is decoded, and
        the transcription and the diarization run side by side."""
        if task.diarize is not None:
            check_speaker_counts(task.diarize)
        async with AsyncExitStack() as stack:
            asr = identifier = announcement = None
            spoken: SpokenLanguage | None = None
            asked = task.transcribe
            if task.asr_model is not None and asked is not None:
                asr = await stack.enter_async_context(self.registry.acquire(task.asr_model, Role.ASR))
                self.check_languages(asr, asked)
                known = self.known_language(asr, asked.language)
                if isinstance(known, SpokenLanguage):
                    spoken = known
                else:
                    identifier = known
                    if identifier.wrapper is not asr:
                        await stack.enter_async_context(
                            self.registry.acquire(identifier.wrapper.key, Role.LANGUAGE_IDENTIFICATION)
                        )
            diarizer = None
            if task.diarize is not None:
                diarizer = await stack.enter_async_context(self.registry.acquire(DIARIZATION_MODEL, Role.DIARIZATION))
            if asr is not None and asked is not None:
                # Batches with these options (any, while the language is unknown) wait for this upload.
                expected = asked.options(spoken.code) if spoken is not None else None
                announcement = stack.enter_context(self.transcription.announce(asr, expected))
            audio = await self.decode(source)
            record = current_record()
            if record is not None:
                record.consumed_audio(audio.duration_s, transcribe=asr is not None, diarize=diarizer is not None)
            result = SpeechResult(audio.duration_s, audio.sample_rate)
            work: list[Awaitable[Any]] = []
            if asr is not None and asked is not None:
                if identifier is not None:
                    spoken = await self.languages.identify(identifier, audio, asr)
                assert spoken is not None
                result.spoken, result.options = spoken, asked.options(spoken.code)
                asr.check_options(result.options)
                work.append(self.transcription.transcribe(asr, audio, result.options, announcement))
            if diarizer is not None and task.diarize is not None:
                work.append(self.diarize(diarizer, audio, task.diarize))
            outcomes = await together(*work)
            result.transcript = outcomes.pop(0) if asr is not None else None
            result.diarization = outcomes.pop(0) if diarizer is not None else None
            return result.assign()
