"""Speech to text: OpenAI's /v1/audio/transcriptions and /v1/audio/translations, and /api/audio/transcribe."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from app.dependencies import AppState, StateDep, require_client
from app.errors import InvalidRequestError, PayloadTooLargeError
from app.services.audio_io import DecodedAudio, read_upload
from app.services.openai_service import until_disconnected
from app.services.transcripts import LANGUAGE_NAMES, TranscribeOptions, Transcript, cues, to_srt, to_vtt, verbose_json

router = APIRouter(tags=["audio"], dependencies=[Depends(require_client)])

ResponseFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]
Granularity = Literal["word", "segment"]
DEFAULT_ASR = "canary"


def _check_declared_size(request: Request, state: AppState) -> None:
    """Refuse an oversized upload from its Content-Length, before reading it."""
    declared = request.headers.get("content-length")
    limit = state.settings.max_upload_mb
    if declared and declared.isdigit() and int(declared) > limit * 2**20 + 64 * 1024:
        raise PayloadTooLargeError(
            f"the request body is {int(declared) / 2**20:.1f} MiB; this server accepts at most {limit:g} MiB "
            "(MAX_UPLOAD_MB)",
            param="file",
        )


def _check_language(code: str | None, param: str, server: dict[str, Any]) -> None:
    if code is None:
        return
    known = server.get("languages") or list(LANGUAGE_NAMES)
    if code not in known:
        raise InvalidRequestError(
            f"{param} '{code}' is not supported by this model; use an ISO 639-1 code among: {', '.join(known)}",
            param=param,
        )


async def _run(
    request: Request, state: AppState, file: UploadFile, model: str, options: TranscribeOptions
) -> tuple[Transcript, DecodedAudio] | None:
    _check_declared_size(request, state)
    settings = state.settings

    async def work() -> tuple[Transcript, DecodedAudio]:
        async with state.registry.acquire(model, "asr") as wrapper:
            _check_language(options.source_lang, "language", wrapper.runtime.server)
            _check_language(options.target_lang, "target_language", wrapper.runtime.server)
            audio = await read_upload(
                file, max_upload_mb=settings.max_upload_mb, max_audio_seconds=settings.max_audio_seconds
            )
            return await state.transcription.transcribe(wrapper, audio, options), audio

    return await until_disconnected(request, work())


def _openai_response(
    result: tuple[Transcript, DecodedAudio] | None,
    response_format: ResponseFormat,
    granularities: list[Granularity],
    task: str,
    language: str,
) -> Response:
    if result is None:
        return Response(status_code=499)
    transcript, audio = result
    if response_format == "json":
        return JSONResponse({"text": transcript.text})
    if response_format == "text":
        return PlainTextResponse(transcript.text)
    if response_format == "srt":
        return PlainTextResponse(to_srt(cues(transcript, audio.duration_s)))
    if response_format == "vtt":
        return PlainTextResponse(to_vtt(cues(transcript, audio.duration_s)))
    wanted = granularities or ["segment"]
    body = verbose_json(
        transcript,
        task=task,
        language=language,
        duration_s=audio.duration_s,
        words="word" in wanted,
        segments="segment" in wanted,
    )
    return JSONResponse(body)


def _check_granularities(response_format: ResponseFormat, granularities: list[Granularity]) -> None:
    if granularities and response_format != "verbose_json":
        raise InvalidRequestError(
            "timestamp_granularities[] requires response_format=verbose_json", param="timestamp_granularities"
        )


FileField = Annotated[UploadFile, File(description="The audio file (wav, flac, mp3, ogg, m4a, webm, ...)")]
FormatField = Annotated[ResponseFormat, Form()]
GranularityField = Annotated[list[Granularity], Form(alias="timestamp_granularities[]")]
PromptField = Annotated[str | None, Form(description="Accepted for compatibility; Canary does not use it")]
TemperatureField = Annotated[float, Form(ge=0, le=1, description="Accepted; decoding is greedy")]


@router.post("/v1/audio/transcriptions", response_model=None)
async def transcriptions(
    request: Request,
    state: StateDep,
    file: FileField,
    model: Annotated[str, Form()],
    language: Annotated[str | None, Form()] = None,
    prompt: PromptField = None,
    response_format: FormatField = "json",
    temperature: TemperatureField = 0.0,
    timestamp_granularities: GranularityField = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    _check_granularities(response_format, timestamp_granularities)
    timestamps = response_format in ("srt", "vtt", "verbose_json")
    source = language or "en"
    options = TranscribeOptions(source_lang=source, target_lang=source, timestamps=timestamps)
    result = await _run(request, state, file, model, options)
    return _openai_response(result, response_format, timestamp_granularities, "transcribe", source)


@router.post("/v1/audio/translations", response_model=None)
async def translations(
    request: Request,
    state: StateDep,
    file: FileField,
    model: Annotated[str, Form()],
    language: Annotated[str | None, Form(description="Spoken language (Canary cannot detect it)")] = None,
    prompt: PromptField = None,
    response_format: FormatField = "json",
    temperature: TemperatureField = 0.0,
) -> Response:
    if language is None:
        raise InvalidRequestError(
            "language (the spoken language, ISO 639-1) is required: this model cannot detect it; "
            "with the openai SDK pass extra_body={'language': 'de'}",
            param="language",
        )
    timestamps = response_format in ("srt", "vtt", "verbose_json")
    options = TranscribeOptions(source_lang=language, target_lang="en", timestamps=timestamps)
    result = await _run(request, state, file, model, options)
    return _openai_response(result, response_format, [], "translate", "en")


@router.post("/api/audio/transcribe")
async def transcribe(
    request: Request,
    state: StateDep,
    file: FileField,
    model: Annotated[str, Form()] = DEFAULT_ASR,
    language: Annotated[str, Form()] = "en",
    target_language: Annotated[str | None, Form()] = None,
    timestamps: Annotated[bool, Form()] = False,
    punctuation: Annotated[bool, Form()] = True,
) -> Response:
    options = TranscribeOptions(
        source_lang=language, target_lang=target_language or language, punctuation=punctuation, timestamps=timestamps
    )
    result = await _run(request, state, file, model, options)
    if result is None:
        return Response(status_code=499)
    transcript, audio = result
    body: dict[str, Any] = {
        "text": transcript.text,
        "sampling_rate": audio.sample_rate,
        "duration": round(audio.duration_s, 3),
        "language": options.target_lang,
    }
    if timestamps:
        body["segments"] = [
            {"start": s.start, "end": s.end, "text": s.text} for s in cues(transcript, audio.duration_s)
        ]
        body["words"] = [{"start": w.start, "end": w.end, "word": w.text} for w in transcript.words]
    return JSONResponse(body)
