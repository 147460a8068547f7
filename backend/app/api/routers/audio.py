"""Speech to text: OpenAI's /v1/audio/transcriptions and /v1/audio/translations, and /api/audio/transcribe."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from app.api.dependencies import Credentials, StateDep, require_client
from app.api.schemas.audio import Transcription
from app.api.schemas.errors import error_responses
from app.errors import InvalidRequestError
from app.models.types import DiarizeOptions
from app.services import speech_requests
from app.services.speakers import MAX_SPEAKERS
from app.services.speech_requests import Granularity, ResponseFormat
from app.services.transcripts import TranscribeRequest, cues

router = APIRouter(
    tags=["audio"],
    dependencies=[Depends(require_client), *Credentials],
    responses=error_responses(400, 401, 404, 413, 415, 429, 503),
)

FileField = Annotated[UploadFile, File(description="The audio file (wav, flac, mp3, ogg, m4a, webm, ...)")]
FormatField = Annotated[ResponseFormat, Form()]
GranularityField = Annotated[list[Granularity], Form(alias="timestamp_granularities[]")]
PromptField = Annotated[str | None, Form(description="Accepted for compatibility; Canary does not use it")]
TemperatureField = Annotated[float, Form(ge=0, le=1, description="Accepted; decoding is greedy")]
DiarizeField = Annotated[bool, Form(description="Label speakers in srt, vtt and verbose_json (pyannote)")]
Speakers = Annotated[int | None, Form(ge=1, le=MAX_SPEAKERS)]
LanguageField = Annotated[
    str | None,
    Form(
        description="Spoken language (ISO 639-1). Without it, it is detected when a model can (the langid slot), "
        "else ASR_DEFAULT_LANGUAGE is assumed"
    ),
]


def _needs_timestamps(response_format: ResponseFormat, diarize: bool) -> bool:
    return diarize or response_format in ("srt", "vtt", "verbose_json", "diarized_json")


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
    result = await speech_requests.run(request, state, file, model, asked, speakers)
    return speech_requests.openai_response(result, response_format, timestamp_granularities, "transcribe")


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
    result = await speech_requests.run(request, state, file, model, asked, None)
    return speech_requests.openai_response(result, response_format, [], "translate")


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
    `speaker` per segment with `diarize=true`. The body is built here (the model documents it): it grows
    with the audio, and is not validated again on the way out."""
    asked = TranscribeRequest(language or None, target_language or None, punctuation, timestamps or diarize)
    speakers = DiarizeOptions(num_speakers, min_speakers, max_speakers) if diarize else None
    result = await speech_requests.run(request, state, file, model, asked, speakers)
    if result is None:
        return Response(status_code=499)
    transcript, audio, options, spoken = result.transcript, result.audio, result.options, result.spoken
    assert transcript is not None and options is not None and spoken is not None
    body: dict[str, Any] = {
        "text": transcript.text,
        "sampling_rate": audio.sample_rate,
        "duration": round(audio.duration_s, 3),
        "language": options.target_lang,
        "source_language": spoken.code,
        "source_language_origin": spoken.origin,
    }
    if result.diarization is not None:
        body["speakers"] = result.diarization.speakers
        body["segments"] = [
            {"start": s.start, "end": s.end, "text": s.text, "speaker": s.speaker} for s in result.speaker_segments()
        ]
    elif timestamps:
        body["segments"] = [
            {"start": s.start, "end": s.end, "text": s.text} for s in cues(transcript, audio.duration_s)
        ]
    if timestamps or diarize:
        body["words"] = [{"start": w.start, "end": w.end, "word": w.text} for w in transcript.words]
    return JSONResponse(body)
