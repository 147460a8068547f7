"""Speech to text: OpenAI's /v1/audio/transcriptions and /v1/audio/translations, and /api/audio/transcribe."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from app.api.dependencies import Credentials, StateDep, require_client
from app.api.schemas.audio import Transcription
from app.api.schemas.errors import error_responses
from app.api.speech import response_of, run_speech
from app.errors import InvalidRequestError
from app.models.types import DiarizeOptions
from app.services.speakers import MAX_SPEAKERS
from app.services.speech import SpeechResult, SpeechTask
from app.services.speech_formats import RenderOptions, render
from app.services.transcripts import TranscribeRequest

router = APIRouter(
    tags=["audio"],
    dependencies=[Depends(require_client), *Credentials],
    responses=error_responses(400, 401, 404, 413, 415, 429, 503),
)

ResponseFormat = Literal["json", "text", "srt", "verbose_json", "vtt", "diarized_json"]
Granularity = Literal["word", "segment"]
FileField = Annotated[UploadFile, File(description="The audio file (wav, flac, mp3, ogg, m4a, webm, ...)")]
FormatField = Annotated[ResponseFormat, Form()]
GranularityField = Annotated[list[Granularity], Form(alias="timestamp_granularities[]")]
PromptField = Annotated[str | None, Form(description="Accepted for compatibility; not used")]
TemperatureField = Annotated[float, Form(ge=0, le=1, description="Accepted; decoding is greedy")]
DiarizeField = Annotated[bool, Form(description="Label speakers in srt, vtt and verbose_json (pyannote)")]
Speakers = Annotated[int | None, Form(ge=1, le=MAX_SPEAKERS)]
LanguageField = Annotated[
    str | None,
    Form(
        description="Spoken language (ISO 639-1). Without it, it is detected when a model can (Whisper itself, "
        "or the langid slot for Canary), else ASR_DEFAULT_LANGUAGE is assumed"
    ),
]


def _needs_timestamps(response_format: ResponseFormat, diarize: bool) -> bool:
    return diarize or response_format in ("srt", "vtt", "verbose_json", "diarized_json")


def _openai(
    response_format: ResponseFormat, granularities: list[Granularity], task: Literal["transcribe", "translate"]
) -> RenderOptions:
    wanted = granularities or ["segment"]
    return RenderOptions(task=task, words="word" in wanted, segments="segment" in wanted)


@router.post("/v1/audio/transcriptions", response_model=None)
async def transcriptions(
    request: Request,
    state: StateDep,
    file: FileField,
    model: Annotated[str, Form()],
    language: LanguageField = None,
    prompt: PromptField = None,
    response_format: FormatField = "json",
    temperature: TemperatureField = 0.0,
    timestamp_granularities: GranularityField = [],  # noqa: B006 - FastAPI copies defaults
    diarize: DiarizeField = False,
    num_speakers: Speakers = None,
    min_speakers: Speakers = None,
    max_speakers: Speakers = None,
    stream: Annotated[bool, Form()] = False,
) -> Response:
    if stream:
        raise InvalidRequestError("streamed transcription is not supported; send stream=false", param="stream")
    if timestamp_granularities and response_format != "verbose_json":
        raise InvalidRequestError(
            "timestamp_granularities[] requires response_format=verbose_json", param="timestamp_granularities"
        )
    diarize = diarize or response_format == "diarized_json"
    asked = TranscribeRequest(language or None, timestamps=_needs_timestamps(response_format, diarize))
    speakers = DiarizeOptions(num_speakers, min_speakers, max_speakers) if diarize else None
    options = _openai(response_format, timestamp_granularities, "transcribe")
    return await run_speech(
        request,
        state,
        file,
        SpeechTask(model, asked, speakers),
        lambda result: response_of(render(result, response_format, options)),
    )


@router.post("/v1/audio/translations", response_model=None)
async def translations(
    request: Request,
    state: StateDep,
    file: FileField,
    model: Annotated[str, Form()],
    language: LanguageField = None,
    prompt: PromptField = None,
    response_format: FormatField = "json",
    temperature: TemperatureField = 0.0,
) -> Response:
    if response_format == "diarized_json":
        raise InvalidRequestError("diarized_json is for transcriptions", param="response_format")
    asked = TranscribeRequest(language or None, "en", timestamps=_needs_timestamps(response_format, False))
    options = _openai(response_format, [], "translate")
    return await run_speech(
        request,
        state,
        file,
        SpeechTask(model, asked),
        lambda result: response_of(render(result, response_format, options)),
    )


@router.post("/api/audio/transcribe", response_model=Transcription)
async def transcribe(
    request: Request,
    state: StateDep,
    file: FileField,
    model: Annotated[str, Form()] = "canary",
    language: LanguageField = None,
    target_language: Annotated[str | None, Form(description="Translate into this language")] = None,
    timestamps: Annotated[bool, Form()] = False,
    punctuation: Annotated[bool, Form()] = True,
    diarize: Annotated[bool, Query(description="Label every segment with its speaker (pyannote)")] = False,
    num_speakers: Speakers = None,
    min_speakers: Speakers = None,
    max_speakers: Speakers = None,
) -> Response:
    """The transcript with the languages used; `segments` and `words` with timestamps, `speakers` and a
    `speaker` per segment with `diarize=true`. The body is rendered by the speech formats (the model
    documents it): it grows with the audio, and is not validated again on the way out."""
    asked = TranscribeRequest(language or None, target_language or None, punctuation, timestamps or diarize)
    speakers = DiarizeOptions(num_speakers, min_speakers, max_speakers) if diarize else None

    def respond(result: SpeechResult) -> Response:
        return response_of(render(result, "transcription"))

    return await run_speech(request, state, file, SpeechTask(model, asked, speakers), respond)
