"""One synchronous speech request: upload checks, model holding, ASR and diarization side by side,
and the response in the format the client asked for. The audio routers stay thin over this."""

from __future__ import annotations

from collections.abc import Awaitable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from fastapi import Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from app.errors import InvalidRequestError
from app.infra.audio_io import DecodedAudio
from app.infra.request_records import current_record
from app.infra.tasks import together, until_disconnected
from app.models.types import Diarization, DiarizeOptions, TimedText, TranscribeOptions, Transcript
from app.services.languages import SpokenLanguage, check_language
from app.services.speakers import SpeakerSegment, assign_speakers, diarized_json, labelled_cues, letter_labels
from app.services.transcripts import TranscribeRequest, cues, to_srt, to_vtt, verbose_json

if TYPE_CHECKING:
    from app.api.dependencies import AppState
    from app.models.base import BaseModelWrapper

ResponseFormat = Literal["json", "text", "srt", "verbose_json", "vtt", "diarized_json"]
Granularity = Literal["word", "segment"]
DIARIZATION_MODEL = "pyannote"


@dataclass
class SpeechResult:
    audio: DecodedAudio
    transcript: Transcript | None = None
    diarization: Diarization | None = None
    spoken: SpokenLanguage | None = None
    """The spoken language the transcription used (given, detected or the default)."""
    options: TranscribeOptions | None = None

    def speaker_segments(self) -> list[SpeakerSegment]:
        assert self.transcript is not None and self.diarization is not None
        return assign_speakers(self.transcript, self.diarization.exclusive, self.audio.duration_s)


def check_speaker_counts(options: DiarizeOptions) -> None:
    low, high = options.min_speakers, options.max_speakers
    if low is not None and high is not None and low > high:
        raise InvalidRequestError("min_speakers must not exceed max_speakers", param="min_speakers")
    if options.num_speakers is not None and (low is not None or high is not None):
        raise InvalidRequestError("give num_speakers, or min_speakers/max_speakers, not both", param="num_speakers")


async def _settle_language(
    stack: AsyncExitStack, state: AppState, asr: BaseModelWrapper, asked: TranscribeRequest
) -> tuple[SpokenLanguage | None, BaseModelWrapper | None]:
    """The spoken language when it is known before decoding (given, or the default), else the model
    that will detect it, held for this request. Given languages are checked against the model first."""
    check_language(asked.language, "language", asr.runtime.server)
    check_language(asked.target_language, "target_language", asr.runtime.server)
    if asked.language is not None:
        return SpokenLanguage(asked.language), None
    identifier = state.languages.identifier(asr)
    if identifier is None:
        return state.languages.default(asr), None
    if identifier is not asr:
        await stack.enter_async_context(state.registry.acquire(identifier.key, identifier.kind))
    return None, identifier


async def run(
    request: Request,
    state: AppState,
    file: UploadFile,
    asr_model: str | None,
    asked: TranscribeRequest | None,
    diarize: DiarizeOptions | None,
) -> SpeechResult | None:
    """Transcribe (`asr_model` and `asked` both given) and/or diarize one upload; None when the client
    left before the end."""
    if diarize is not None:
        check_speaker_counts(diarize)

    async def work() -> SpeechResult:
        async with AsyncExitStack() as stack:
            asr = spoken = identifier = announcement = options = None
            if asr_model is not None and asked is not None:
                asr = await stack.enter_async_context(state.registry.acquire(asr_model, "asr"))
                spoken, identifier = await _settle_language(stack, state, asr, asked)
            diarizer = None
            if diarize is not None:
                diarizer = await stack.enter_async_context(state.registry.acquire(DIARIZATION_MODEL, "diarization"))
            if asr is not None and asked is not None:
                # Batches with these options (any, while the language is unknown) wait for this upload.
                expected = asked.options(spoken.code) if spoken is not None else None
                announcement = stack.enter_context(state.transcription.announce(asr, expected))
            audio = await state.decoding.read_upload(file)
            record = current_record()
            if record is not None:
                record.consumed_audio(audio.duration_s, transcribe=asr is not None, diarize=diarizer is not None)
            work: list[Awaitable[Any]] = []
            if asr is not None and asked is not None:
                if identifier is not None:
                    spoken = await state.languages.identify(identifier, audio, asr)
                assert spoken is not None
                options = asked.options(spoken.code)
                work.append(state.transcription.transcribe(asr, audio, options, announcement))
            if diarizer is not None:
                work.append(state.diarization.diarize(diarizer, audio, diarize))
            results = await together(*work)
            transcript = results.pop(0) if asr is not None else None
            diarization = results.pop(0) if diarizer is not None else None
            return SpeechResult(audio, transcript, diarization, spoken, options)

    return await until_disconnected(request, work())


def openai_response(
    result: SpeechResult | None, response_format: ResponseFormat, granularities: list[Granularity], task: str
) -> Response:
    """The OpenAI formats. `verbose_json` names the output language (the spoken one, or English for
    translations, as OpenAI's spec says) and, beyond the spec, the spoken language the model was given
    (`source_language`, an ISO 639-1 code) and where it came from (`source_language_origin`: `request`,
    `detected` or `default`)."""
    if result is None:
        return Response(status_code=499)
    transcript, duration, options = result.transcript, result.audio.duration_s, result.options
    assert transcript is not None and options is not None and options.target_lang is not None
    speakers = result.speaker_segments() if result.diarization is not None else None
    if response_format == "json":
        return JSONResponse({"text": transcript.text})
    if response_format == "text":
        return PlainTextResponse(transcript.text)
    if response_format == "diarized_json":
        assert speakers is not None
        return JSONResponse(diarized_json(speakers, transcript.text, duration))
    if response_format in ("srt", "vtt"):
        items = labelled_cues(speakers) if speakers is not None else cues(transcript, duration)
        return PlainTextResponse(to_srt(items) if response_format == "srt" else to_vtt(items))
    wanted = granularities or ["segment"]
    body = verbose_json(
        transcript, task=task, language=options.target_lang, duration_s=duration, words="word" in wanted
    )
    if "segment" in wanted:
        body["segments"] = verbose_segments(transcript, duration, speakers)
    if result.spoken is not None:
        body["source_language"] = result.spoken.code
        body["source_language_origin"] = result.spoken.origin
    return JSONResponse(body)


def verbose_segments(
    transcript: Transcript, duration_s: float, speakers: list[SpeakerSegment] | None
) -> list[dict[str, Any]]:
    """`verbose_json` segments (Whisper-only fields neutral); with diarization, one per speaker turn and a
    `speaker` field lettered as in `diarized_json`."""
    items: list[tuple[TimedText, str | None]] = (
        [(TimedText(s.text, s.start, s.end), s.speaker) for s in speakers]
        if speakers is not None
        else [(c, None) for c in cues(transcript, duration_s)]
    )
    labels = letter_labels([speaker for _, speaker in items])
    segments = []
    for index, (item, speaker) in enumerate(items):
        segment: dict[str, Any] = {
            "id": index, "seek": 0, "start": round(item.start, 3), "end": round(item.end, 3), "text": item.text,
            "tokens": [], "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 0.0, "no_speech_prob": 0.0,
        }  # fmt: skip
        if speakers is not None:
            segment["speaker"] = labels[speaker]
        segments.append(segment)
    return segments
