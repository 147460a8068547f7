"""Text translation on top of translation wrappers (NLLB-200, M2M100): POST /v1/translate.

A request's texts are split into sentences (`plan_texts`: paragraph breaks kept, sentences joined back with
a space), and the sentences of concurrent requests with the same languages and options share batches
(`DynamicBatcher`, one generate call at a time per model on a worker thread). Every amount is bounded:
characters per request (TRANSLATION_MAX_INPUT_CHARS) and texts (TRANSLATION_MAX_TEXTS) give a 413,
a request splitting into more sentences than the queue holds too, and a full queue (TRANSLATION_QUEUE_SIZE
sentences waiting) a 429 with Retry-After. Languages are resolved by `LanguageTable`: a model code, or a
friendly name or ISO code that maps to one.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from app.config import Settings
from app.errors import InvalidRequestError, ModelNotFoundError, PayloadTooLargeError
from app.infra.request_records import current_record
from app.models.roles import TranslationWrapper
from app.models.types import TranslateOptions, Translation
from app.services.asr_batching import DynamicBatcher
from app.services.openai_requests import OpenAIBody
from app.services.translation_languages import LanguageTable
from app.slots import Role

if TYPE_CHECKING:
    from app.services.model_registry import ModelRegistry

MAX_BEAM_SIZE = 8
MAX_TEXTS_CEILING = 4096
"""The most texts a body may hold whatever TRANSLATION_MAX_TEXTS says (bounds what the body's model holds)."""
MAX_SENTENCE_CHARS = 600
"""A sentence longer than this (text without sentence punctuation) is cut at spaces into pieces this long."""
INLINE_PLAN_CHARS = 64 * 1024
"""Requests with more characters are split into sentences on a worker thread, not on the event loop."""
LANGUAGES_HINT = "GET /v1/translate/languages lists the codes and names this model accepts"


class TranslationRequest(OpenAIBody):
    """The body of POST /v1/translate (the BurkimbIA request shape). Types are strict: `"3"` is not a number."""

    model_config = ConfigDict(strict=True, extra="ignore")

    text: Annotated[
        str | list[str],
        Field(description="The text to translate, or a list of texts (translated one by one, answered in order)"),
    ]
    src_lang: str = Field(
        max_length=64, description="Source language: a model code (`fra_Latn`), a name or an ISO code (`fr`)"
    )
    tgt_lang: str = Field(max_length=64, description="Target language, named the same ways")
    model: str | None = Field(None, description="The translation model; default: the first one served")
    model_id: str | None = Field(None, description="Accepted for `model` (the BurkimbIA notes' name)")
    beam_size: int = Field(1, ge=1, le=MAX_BEAM_SIZE, description="Beams of the beam search (1: greedy)")
    max_length: int | None = Field(
        None, ge=1, le=4096, description="Most tokens generated per sentence (at most TRANSLATION_MAX_NEW_TOKENS)"
    )

    @field_validator("text", mode="before")
    @classmethod
    def _text_shape(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value
        if not isinstance(value, list):
            raise ValueError("text must be a string or a list of strings")
        if len(value) > MAX_TEXTS_CEILING:
            raise ValueError(f"text holds more than {MAX_TEXTS_CEILING} texts")
        wrong = next((i for i, item in enumerate(value) if not isinstance(item, str)), None)
        if wrong is not None:
            raise ValueError(f"text must be a string or a list of strings; item {wrong} is not a string")
        return value

    @property
    def texts(self) -> list[str]:
        return [self.text] if isinstance(self.text, str) else list(self.text)


@dataclass(frozen=True, slots=True)
class TranslationResult:
    model: str
    """The served name of the model (its first one)."""
    src_lang: str
    tgt_lang: str
    """The languages as the model's codes."""
    translations: list[str]
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class TextPlan:
    """How one text is put back together: its parts, each a sentence's index in the batch or literal text."""

    parts: list[int | str]


CJK_SENTENCE_ENDS = "\u3002\uff01\uff1f"
"""Full stop, exclamation and question marks of Chinese and Japanese, which no space follows."""
_CLOSERS = "\"'\u201d\u2019\u00bb\u300d\u300f)\\]"
"""Closing quotes and brackets that may follow a sentence's end."""
_SENTENCE_END = re.compile(f"[.!?\u2026]+(?:[ \u00a0\u202f]?[{_CLOSERS}])*\\s+|[{CJK_SENTENCE_ENDS}]+[{_CLOSERS}]*\\s*")
"""A sentence's end: French puts a (narrow) no-break space before its closing guillemet."""
_PARAGRAPH_BREAK = re.compile(r"[ \t\r\f\v]*\n\s*")


def split_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph: cut after `.`, `!`, `?` or an ellipsis (and closing quotes) followed by
    spaces and something other than a lower-case letter (`etc. and` stays whole), or after Chinese and
    Japanese sentence ends (`CJK_SENTENCE_ENDS`). A piece
    longer than MAX_SENTENCE_CHARS is cut at spaces."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        end = match.end()
        if end >= len(paragraph):
            break
        if match.group(0)[0] not in CJK_SENTENCE_ENDS and paragraph[end].islower():
            continue
        sentences.append(paragraph[start:end].strip())
        start = end
    sentences.append(paragraph[start:].strip())
    return [piece for sentence in sentences if sentence for piece in _cut(sentence)]


def _cut(sentence: str) -> list[str]:
    pieces: list[str] = []
    while len(sentence) > MAX_SENTENCE_CHARS:
        space = sentence.rfind(" ", 0, MAX_SENTENCE_CHARS + 1)
        at = space if space > 0 else MAX_SENTENCE_CHARS
        pieces.append(sentence[:at].strip())
        sentence = sentence[at:].strip()
    if sentence:
        pieces.append(sentence)
    return pieces


def plan_texts(texts: list[str]) -> tuple[list[str], list[TextPlan]]:
    """Every sentence of `texts` (to translate, in one list) and how to rebuild each text from them:
    paragraphs keep their line breaks (spaces around them dropped), sentences are joined with a space
    (see `join_text`)."""
    sentences: list[str] = []
    plans: list[TextPlan] = []
    for text in texts:
        parts: list[int | str] = []
        pieces = _PARAGRAPH_BREAK.split(text)
        breaks = [m.group(0) for m in _PARAGRAPH_BREAK.finditer(text)]
        for index, paragraph in enumerate(pieces):
            for sentence in split_sentences(paragraph):
                parts.append(len(sentences))
                sentences.append(sentence)
            if index < len(breaks):
                parts.append("\n" * breaks[index].count("\n"))
        while parts and isinstance(parts[-1], str):  # trailing line breaks
            parts.pop()
        while parts and isinstance(parts[0], str):
            parts.pop(0)
        plans.append(TextPlan(parts))
    return sentences, plans


def join_text(plan: TextPlan, translated: list[str], joiner: str = " ") -> str:
    """A text rebuilt from its translated sentences: consecutive sentences joined with `joiner`."""
    out: list[str] = []
    previous_was_sentence = False
    for part in plan.parts:
        if isinstance(part, int):
            if previous_was_sentence:
                out.append(joiner)
            out.append(translated[part])
            previous_was_sentence = True
        else:
            out.append(part)
            previous_was_sentence = False
    return "".join(out)


def sentence_joiner(tgt_lang: str) -> str:
    """Chinese and Japanese write sentences without a space between them."""
    return "" if tgt_lang.endswith(("_Hans", "_Hant", "_Jpan")) or tgt_lang in ("zh", "ja") else " "


class TranslationService:
    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self.languages = LanguageTable(settings.translation_language_aliases)
        self._batchers: dict[str, DynamicBatcher[str, TranslateOptions, Translation]] = {}

    @classmethod
    def for_gateway(cls, settings: Settings, registry: ModelRegistry) -> TranslationService:
        """The service of the translation slots (`app.slots.SLOTS`)."""
        return cls(settings, registry)

    def batcher(self, wrapper: TranslationWrapper) -> DynamicBatcher[str, TranslateOptions, Translation]:
        if wrapper.key not in self._batchers:
            settings = self.settings
            self._batchers[wrapper.key] = DynamicBatcher(
                wrapper.key,
                wrapper.translate_batch,
                batch_size=settings.translation_batch_size,
                max_wait_s=settings.translation_batch_wait_ms / 1000,
                queue_size=settings.translation_queue_size,
                unit="sentences",
                queue_setting="TRANSLATION_QUEUE_SIZE",
            )
        return self._batchers[wrapper.key]

    def model_name(self, model: str | None, model_id: str | None = None) -> str:
        """The model a request names (`model`, or `model_id`), else the first translation slot served."""
        if model is not None and model_id is not None and model != model_id:
            raise InvalidRequestError(
                f"model '{model}' and model_id '{model_id}' name different models; send one of them", param="model_id"
            )
        name = model if model is not None else model_id
        if name is not None:
            return name
        served = next((w for w in self.registry.wrappers() if w.role == Role.TRANSLATION), None)
        if served is None:
            raise ModelNotFoundError(
                "no translation model is served; an operator adds `translation` to ENABLED_MODELS", param="model"
            )
        return served.key

    def resolve_language(self, wrapper: TranslationWrapper, name: str, param: str) -> str:
        """The model code a request's language means on `wrapper`; 400 naming `param` when it has none."""
        codes = wrapper.language_codes()
        code = self.languages.resolve(name, codes)
        if code is not None:
            return code
        candidates = self.languages.candidates(name)
        if candidates:
            reason = f"'{name}' ({', '.join(candidates)}) is not among the languages of this model"
        else:
            reason = f"'{name}' is neither a language code of this model nor a language name the gateway knows"
        raise InvalidRequestError(f"{param} {reason}; {LANGUAGES_HINT}", param=param, code="unsupported_language")

    def check_limits(self, body: TranslationRequest) -> list[str]:
        """The request's texts, after the limits on their number (413), size (413) and content (400)."""
        texts = body.texts
        settings = self.settings
        if len(texts) > settings.translation_max_texts:
            raise PayloadTooLargeError(
                f"text holds {len(texts)} texts; this server translates at most {settings.translation_max_texts} "
                "per request (TRANSLATION_MAX_TEXTS)",
                param="text",
            )
        chars = sum(len(t) for t in texts)
        if chars > settings.translation_max_input_chars:
            raise PayloadTooLargeError(
                f"text holds {chars} characters; this server translates at most "
                f"{settings.translation_max_input_chars} per request (TRANSLATION_MAX_INPUT_CHARS)",
                param="text",
            )
        if not any(t.strip() for t in texts):
            raise InvalidRequestError("text is empty; send the text to translate", param="text")
        ceiling = settings.translation_max_new_tokens
        if body.max_length is not None and body.max_length > ceiling:
            raise InvalidRequestError(
                f"max_length {body.max_length} is above this server's {ceiling} (TRANSLATION_MAX_NEW_TOKENS)",
                param="max_length",
            )
        return texts

    async def translate(self, body: TranslationRequest) -> TranslationResult:
        texts = self.check_limits(body)
        name = self.model_name(body.model, body.model_id)
        async with self.registry.acquire(name, Role.TRANSLATION) as wrapper:
            options = TranslateOptions(
                src_lang=self.resolve_language(wrapper, body.src_lang, "src_lang"),
                tgt_lang=self.resolve_language(wrapper, body.tgt_lang, "tgt_lang"),
                beam_size=body.beam_size,
                max_new_tokens=body.max_length or self.settings.translation_max_new_tokens,
            )
            if sum(len(t) for t in texts) > INLINE_PLAN_CHARS:
                sentences, plans = await asyncio.to_thread(plan_texts, texts)
            else:
                sentences, plans = plan_texts(texts)
            queue_size = self.settings.translation_queue_size
            if len(sentences) > queue_size:
                raise PayloadTooLargeError(
                    f"text splits into {len(sentences)} sentences; this server takes at most {queue_size} per "
                    "request (TRANSLATION_QUEUE_SIZE)",
                    param="text",
                )
            results = await self.batcher(wrapper).submit(sentences, options)
            served = wrapper.served_names[0]
        input_tokens = sum(r.input_tokens for r in results)
        output_tokens = sum(r.output_tokens for r in results)
        record = current_record()
        if record is not None:
            record.prompt_tokens = input_tokens
            record.completion_tokens = output_tokens
        joiner = sentence_joiner(options.tgt_lang)
        translated = [r.text for r in results]
        return TranslationResult(
            model=served,
            src_lang=options.src_lang,
            tgt_lang=options.tgt_lang,
            translations=[join_text(plan, translated, joiner) for plan in plans],
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )

    async def languages_of(self, model: str | None) -> tuple[str, list[str], dict[str, str]]:
        """The served name of the model, its codes, and the names that resolve on it (loads it lazily)."""
        async with self.registry.acquire(self.model_name(model), Role.TRANSLATION) as wrapper:
            codes = wrapper.language_codes()
            return wrapper.served_names[0], codes, self.languages.resolving(codes)

    def stats(self) -> dict[str, dict[str, float | int]]:
        return {key: batcher.stats() for key, batcher in self._batchers.items()}

    def batch_sizes(self) -> dict[str, list[int]]:
        """Per model slot, how many batches of each size (the index) ran."""
        return {key: list(batcher.batch_sizes) for key, batcher in self._batchers.items()}

    async def stop(self) -> None:
        for batcher in self._batchers.values():
            await batcher.stop()
