"""The translation slot (NLLB-200 through transformers) on a live gateway with a tiny random-weight NLLB:
POST /v1/translate and GET /v1/translate/languages, batching across requests, limits, admin lifecycle."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import huggingface_hub.constants
import openai
import pytest

from app.api.schemas import translation as schemas
from app.config import Settings, SettingsError, load_settings
from app.services.translation import TranslationService, plan_texts
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server
from tests.fake_hub import COMMIT, FakeHub
from tests.tiny_translation import build_tiny_translation

QUEUE_SIZE = 48
MAX_CHARS = 2000
MAX_TEXTS = 8
MAX_NEW_TOKENS = 6


@pytest.fixture(scope="session")
def tiny_nllb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_translation(tmp_path_factory.mktemp("models") / "tiny-nllb")


def translation_settings(cache: Path, model_id: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "model_cache_dir": cache,
        "enabled_models": ["translation"],
        "translation_model_id": model_id,
        "translation_batch_wait_ms": 20,
        "translation_queue_size": QUEUE_SIZE,
        "translation_max_input_chars": MAX_CHARS,
        "translation_max_texts": MAX_TEXTS,
        "translation_max_new_tokens": MAX_NEW_TOKENS,
        "translation_language_aliases": "klingon:eng_Latn,elvish:elv_Latn",
        "openai_api_keys": f"clientA:{CLIENT_KEY}",
        "admin_api_keys": f"ops:{ADMIN_KEY}",
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_nllb_dir: Path) -> Iterator[LiveServer]:
    with live_server(translation_settings(tmp_path_factory.mktemp("cache"), str(tiny_nllb_dir))) as live:
        yield live


def translate(server: LiveServer, key: str = CLIENT_KEY, **body: Any) -> httpx.Response:
    with server.client(key) as http:
        return http.post("/v1/translate", json=body)


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def service(server: LiveServer) -> TranslationService:
    found: TranslationService = server.state.service("translation", TranslationService)
    return found


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
    return value


def test_a_string_is_translated_with_the_model_codes_and_usage(server: LiveServer) -> None:
    reply = translate(server, text="Bonjour, comment allez-vous ?", src_lang="fr", tgt_lang="moore")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"id", "object", "created", "model", "src_lang", "tgt_lang", "translations", "usage"}
    assert body["object"] == "translation" and body["id"].startswith("trans-")
    assert abs(body["created"] - time.time()) < 120
    assert (body["model"], body["src_lang"], body["tgt_lang"]) == ("tiny-nllb", "fra_Latn", "moor_Latn")
    assert len(body["translations"]) == 1 and isinstance(body["translations"][0], str)
    usage = body["usage"]
    # The source: the language token, the subwords, </s>; the output: at most MAX_NEW_TOKENS per sentence.
    assert usage["input_tokens"] > 3 and 1 <= usage["output_tokens"] <= MAX_NEW_TOKENS
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_a_list_is_answered_in_order_with_blank_items_blank(server: LiveServer) -> None:
    texts = ["Hello.", "  ", "The quick brown fox.", "Très bien, merci."]
    reply = translate(server, text=texts, src_lang="eng_Latn", tgt_lang="fra_Latn", beam_size=2, max_length=4)
    assert reply.status_code == 200, reply.text
    translations = reply.json()["translations"]
    assert len(translations) == 4 and translations[1] == ""
    assert reply.json()["usage"]["output_tokens"] <= 3 * 4


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("fr", "fra_Latn"),
        ("french", "fra_Latn"),
        ("Français", "fra_Latn"),
        ("fra", "fra_Latn"),
        ("fr_Latn", "fra_Latn"),
        ("fr-FR", "fra_Latn"),
        ("FRA_LATN", "fra_Latn"),
        ("moore", "moor_Latn"),  # the fine-tune's own token wins over NLLB-200's mos_Latn
        ("Mooré", "moor_Latn"),
        ("mos", "moor_Latn"),
        ("mos_Latn", "mos_Latn"),  # a model code is taken as it is
        ("dioula", "dyu_Latn"),
        ("wolof", "wol_Latn"),
        ("sw", "swh_Latn"),
        ("zh-Hant", "zho_Hant"),
        ("klingon", "eng_Latn"),  # TRANSLATION_LANGUAGE_ALIASES
    ],
)
def test_languages_by_name_iso_code_or_model_code(server: LiveServer, name: str, code: str) -> None:
    reply = translate(server, text="Hello.", src_lang=name, tgt_lang="english", max_length=1)
    assert reply.status_code == 200, reply.text
    assert (reply.json()["src_lang"], reply.json()["tgt_lang"]) == (code, "eng_Latn")


def test_model_and_model_id_name_the_translation_model(server: LiveServer) -> None:
    for names in ({"model": "nllb"}, {"model_id": "tiny-nllb"}, {"model": "translation", "model_id": "translation"}):
        reply = translate(server, text="Hello.", src_lang="en", tgt_lang="fr", max_length=1, **names)
        assert reply.status_code == 200, reply.text
        assert reply.json()["model"] == "tiny-nllb"
    clash = translate(server, text="Hello.", src_lang="en", tgt_lang="fr", model="nllb", model_id="other")
    assert clash.status_code == 400 and error_of(clash)["param"] == "model_id"
    unknown = translate(server, text="Hello.", src_lang="en", tgt_lang="fr", model="no-such-model")
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "model_not_found"


def test_long_texts_are_split_into_sentences_and_joined(server: LiveServer) -> None:
    before = service(server).stats()["translation"]["items_run"]
    text = "Hello there. How are you? Very well!\n\nA second paragraph.\nIts second line"
    reply = translate(server, text=text, src_lang="en", tgt_lang="fr", max_length=2)
    assert reply.status_code == 200, reply.text
    assert service(server).stats()["translation"]["items_run"] - before == 5
    (translated,) = reply.json()["translations"]
    assert translated.count("\n\n") == 1 and translated.count("\n") == 3


def test_the_sentence_plan() -> None:
    sentences, plans = plan_texts(["Bonjour. Comment ça va ? « Bien. » Etc. et la suite.\n\n  Fin", "", "x " * 700])
    assert sentences[:5] == ["Bonjour.", "Comment ça va ?", "« Bien. »", "Etc. et la suite.", "Fin"]
    assert plans[0].parts == [0, 1, 2, 3, "\n\n", 4] and plans[1].parts == []
    assert len(sentences) == 8 and all(len(s) <= 600 for s in sentences[5:])  # no punctuation: cut at spaces


def test_an_unknown_language_is_a_400_that_says_where_the_list_is(server: LiveServer) -> None:
    for field, value in (("src_lang", "xx_Nope"), ("tgt_lang", "gibberish"), ("tgt_lang", "elvish")):
        body: dict[str, Any] = {"text": "Hello.", "src_lang": "en", "tgt_lang": "fr", field: value}
        reply = translate(server, **body)
        assert reply.status_code == 400, reply.text
        error = error_of(reply)
        assert (error["param"], error["code"], error["type"]) == (
            field,
            "unsupported_language",
            "invalid_request_error",
        )
        assert "GET /v1/translate/languages" in error["message"] and value in error["message"]
    assert "elv_Latn" in error["message"]  # an alias whose codes the model lacks says which codes it tried


def test_the_languages_of_the_model(server: LiveServer) -> None:
    with server.client(CLIENT_KEY) as http:
        reply = http.get("/v1/translate/languages")
        named = http.get("/v1/translate/languages", params={"model": "nllb"})
        unknown = http.get("/v1/translate/languages", params={"model": "nope"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["object"] == "translation.languages" and body["model"] == "tiny-nllb"
    assert {"fra_Latn", "eng_Latn", "mos_Latn", "moor_Latn", "dyu_Latn"} <= set(body["codes"])
    assert len(body["codes"]) == 203 and "<mask>" not in body["codes"]
    aliases = body["aliases"]
    assert (aliases["fr"], aliases["french"], aliases["moore"], aliases["klingon"]) == (
        "fra_Latn",
        "fra_Latn",
        "moor_Latn",
        "eng_Latn",
    )
    assert "elvish" not in aliases  # its code is not the model's
    assert named.json() == body
    assert unknown.status_code == 404 and error_of(unknown)["param"] == "model"


@pytest.mark.parametrize("text", ["", "   \n ", [], ["", "  "]])
def test_empty_text_is_a_400(server: LiveServer, text: Any) -> None:
    reply = translate(server, text=text, src_lang="en", tgt_lang="fr")
    assert reply.status_code == 400, reply.text
    assert error_of(reply)["param"] == "text"


def test_limits_give_413(server: LiveServer) -> None:
    cases = [
        ("x" * (MAX_CHARS + 1), "TRANSLATION_MAX_INPUT_CHARS"),
        (["Hi."] * (MAX_TEXTS + 1), "TRANSLATION_MAX_TEXTS"),
        ("A. " * (QUEUE_SIZE + 1), "TRANSLATION_QUEUE_SIZE"),
    ]
    for text, setting in cases:
        reply = translate(server, text=text, src_lang="en", tgt_lang="fr")
        assert reply.status_code == 413, reply.text
        error = error_of(reply)
        assert (error["param"], error["code"]) == ("text", "payload_too_large") and setting in error["message"]
    longer = translate(server, text="Hi.", src_lang="en", tgt_lang="fr", max_length=MAX_NEW_TOKENS + 1)
    assert longer.status_code == 400 and error_of(longer)["param"] == "max_length"
    assert "TRANSLATION_MAX_NEW_TOKENS" in error_of(longer)["message"]


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"text": 5}, "text"),
        ({"text": ["fine", 3]}, "text"),
        ({"text": {"a": 1}}, "text"),
        ({"src_lang": 5}, "src_lang"),
        ({"src_lang": "x" * 65}, "src_lang"),
        ({"tgt_lang": None}, "tgt_lang"),
        ({"model": ["nllb"]}, "model"),
        ({"beam_size": "2"}, "beam_size"),
        ({"beam_size": 9}, "beam_size"),
        ({"beam_size": 0}, "beam_size"),
        ({"max_length": 0}, "max_length"),
        ({"max_length": 1.5}, "max_length"),
    ],
)
def test_wrong_types_are_400s_naming_the_field(server: LiveServer, changes: dict[str, Any], param: str) -> None:
    body = {"text": "Hello.", "src_lang": "en", "tgt_lang": "fr", **changes}
    reply = translate(server, **body)
    assert reply.status_code == 400, reply.text
    error = error_of(reply)
    assert (error["type"], error["param"]) == ("invalid_request_error", param)


def test_a_body_that_is_not_json_or_misses_a_field(server: LiveServer) -> None:
    with server.client(CLIENT_KEY) as http:
        broken = http.post("/v1/translate", content=b"{not json", headers={"Content-Type": "application/json"})
        missing = http.post("/v1/translate", json={"text": "Hi.", "src_lang": "en"})
    assert broken.status_code == 400 and error_of(broken)["code"] == "invalid_json"
    assert missing.status_code == 400 and error_of(missing)["param"] == "tgt_lang"


def test_keys_are_required(server: LiveServer) -> None:
    with server.client() as http:
        assert http.post("/v1/translate", json={"text": "Hi.", "src_lang": "en", "tgt_lang": "fr"}).status_code == 401
        assert http.get("/v1/translate/languages").status_code == 401


class HeldBatches:
    """Holds the model's batches until `release()`: the batches that run meanwhile wait in the batcher."""

    def __init__(self, server: LiveServer) -> None:
        self.batcher = service(server).batcher(server.state.registry.get("translation"))
        self.entered = threading.Event()
        self.released = threading.Event()
        self._run = self.batcher._run_batch

    def __enter__(self) -> HeldBatches:
        def held(items: list[str], options: Any) -> Any:
            self.entered.set()
            assert self.released.wait(30)
            return self._run(items, options)

        self.batcher._run_batch = held
        return self

    def release(self) -> None:
        self.released.set()

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.batcher._run_batch = self._run


def test_concurrent_requests_share_batches(server: LiveServer) -> None:
    assert translate(server, text="Warm up.", src_lang="en", tgt_lang="fr", max_length=1).status_code == 200
    body = {"text": "One sentence. Two sentences.", "src_lang": "en", "tgt_lang": "fr", "max_length": 2}
    with HeldBatches(server) as held, ThreadPoolExecutor(8) as pool:
        first = pool.submit(translate, server, **body)
        assert held.entered.wait(20)  # its batch runs (held): the next requests queue up behind it
        rest = [pool.submit(translate, server, **body) for _ in range(6)]
        wait_until(lambda: held.batcher.waiting == 12, "six requests' sentences queued")
        sizes_before = list(held.batcher.batch_sizes)
        held.release()
        replies = [first.result(30), *(f.result(30) for f in rest)]
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    grown = [n - b for n, b in zip(held.batcher.batch_sizes, sizes_before, strict=True)]
    assert grown[12] == 1  # the twelve queued sentences of six requests ran as one batch
    stats = service(server).stats()["translation"]
    assert stats["items_run"] > stats["batches_run"]


def test_a_full_queue_is_a_429_with_retry_after(server: LiveServer) -> None:
    body: dict[str, Any] = {"src_lang": "en", "tgt_lang": "fr", "max_length": 1}
    with HeldBatches(server) as held, ThreadPoolExecutor(4) as pool:
        running = pool.submit(translate, server, text="Held.", **body)
        assert held.entered.wait(20)
        filling = pool.submit(translate, server, text=["A. " * 8] * 6, **body)  # 48 sentences: the whole queue
        wait_until(lambda: held.batcher.waiting == QUEUE_SIZE, "the queue filled")
        refused = translate(server, text="One more.", **body)
        held.release()
        assert running.result(30).status_code == 200 and filling.result(30).status_code == 200
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    error = error_of(refused)
    assert (error["type"], error["code"]) == ("rate_limit_error", "queue_full")
    assert "TRANSLATION_QUEUE_SIZE" in error["message"] and "sentences" in error["message"]


def test_status_models_and_usage(server: LiveServer) -> None:
    reply = translate(server, text="Counted. Twice.", src_lang="en", tgt_lang="fr", max_length=2)
    usage = reply.json()["usage"]
    with server.client(ADMIN_KEY) as http:
        status = http.get("/api/admin/status").json()
        slot = http.get("/api/admin/models/translation").json()
    section = status["translation_batching"]["translation"]
    assert section["batches_run"] >= 1 and section["queue_size"] == QUEUE_SIZE and section["batch_size"] == 32
    assert (slot["kind"], slot["state"]) == ("translation", "loaded")
    assert slot["served_names"] == ["tiny-nllb", "nllb", "translation"]
    assert slot["server"]["model_class"] == "M2M100ForConditionalGeneration" and slot["server"]["languages"] == 203

    sdk = openai.OpenAI(api_key=CLIENT_KEY, base_url=f"{server.base_url}/v1")
    assert {"tiny-nllb", "nllb", "translation"} <= {m.id for m in sdk.models.list()}

    request_id = reply.headers["X-Request-ID"]

    def logged() -> list[dict[str, Any]]:
        with server.client(ADMIN_KEY) as http:
            page = http.get("/api/admin/requests", params={"route": "/v1/translate", "limit": 100}).json()
        return [row for row in page["data"] if row["request_id"] == request_id]

    (row,) = wait_until(logged, "the request logged")
    assert (row["model"], row["status"], row["client"]) == ("tiny-nllb", 200, "clientA")
    assert (row["prompt_tokens"], row["completion_tokens"]) == (usage["input_tokens"], usage["output_tokens"])


def test_settings_of_the_slot() -> None:
    settings = Settings(_env_file=None, translation_language_aliases='{"Mooré": ["moor_Latn", "mos_Latn"], "x": "y"}')
    assert settings.translation_language_aliases == {"mooré": ["moor_Latn", "mos_Latn"], "x": ["y"]}
    assert Settings(_env_file=None).translation_model_id == "facebook/nllb-200-distilled-600M"
    assert "translation" not in Settings(_env_file=None).enabled_models  # optional
    with pytest.raises(SettingsError, match="TRANSLATION_LANGUAGE_ALIASES"):
        load_settings(_env_file=None, translation_language_aliases="moore")


def test_download_load_translate_unload(tmp_path: Path, tiny_nllb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    extra = {"README.md": b"# a model card", "optimizer.pt": b"not wanted"}
    with FakeHub("acme/tiny-nllb", tiny_nllb_dir, extra_files=extra) as hub:
        settings = translation_settings(tmp_path / "cache", "acme/tiny-nllb", hf_endpoint=hub.url)
        with live_server(settings) as live, live.client(ADMIN_KEY) as http:
            assert http.get("/api/admin/models/translation").json()["state"] == "absent"
            assert http.post("/api/admin/models/translation/download").status_code == 202
            downloaded = live.wait_for_state("translation", "downloaded")
            assert downloaded["progress"] == 1.0 and downloaded["cache_has_artifacts"] is True
            snapshot = tmp_path / "cache" / "models--acme--tiny-nllb" / "snapshots" / COMMIT
            assert {p.name for p in snapshot.iterdir()} == {p.name for p in tiny_nllb_dir.iterdir()}

            assert http.post("/api/admin/models/translation/load").status_code == 202
            loaded = live.wait_for_state("translation", "loaded")
            assert (loaded["server"]["path"], loaded["devices"]) == (str(snapshot), ["cpu"])
            reply = translate(live, text="Hi.", src_lang="en", tgt_lang="moore", model="acme/tiny-nllb")
            assert reply.status_code == 200 and reply.json()["model"] == "acme/tiny-nllb"

            assert http.post("/api/admin/models/translation/unload").status_code == 202
            gone = live.wait_for_state("translation", "downloaded")
            assert gone["server"]["gpu_memory_held_mib"] == {}
            assert live.state.registry.get("translation").model is None
            # A request loads it again (LAZY_LOAD_MODELS), from the cache.
            assert translate(live, text="Hi.", src_lang="en", tgt_lang="fr").status_code == 200
            assert http.get("/api/admin/models/translation").json()["load_count"] == 2


def test_a_folder_that_is_not_a_translation_model_fails_to_load_with_a_remedy(tmp_path: Path) -> None:
    (tmp_path / "empty-model").mkdir()
    settings = translation_settings(tmp_path / "cache", str(tmp_path / "empty-model"))
    with live_server(settings) as live:
        reply = translate(live, text="Hi.", src_lang="en", tgt_lang="fr")
        assert reply.status_code == 503 and error_of(reply)["code"] == "model_error"
        with live.client(ADMIN_KEY) as http:
            status = http.get("/api/admin/models/translation").json()
        assert status["state"] == "error" and status["last_error"]["during"] == "load"
        assert "TRANSLATION_MODEL_ID" in status["last_error"]["remedy"]


def test_the_api_document_declares_what_the_routes_answer(server: LiveServer) -> None:
    with server.client() as http:
        document = http.get("/openapi.json").json()
    post = document["paths"]["/v1/translate"]["post"]
    get = document["paths"]["/v1/translate/languages"]["get"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TranslationRequest"
    }
    for operation, schema in ((post, "TranslationResponse"), (get, "TranslationLanguages")):
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{schema}"
        }
    request = document["components"]["schemas"]["TranslationRequest"]
    assert set(request["required"]) == {"text", "src_lang", "tgt_lang"}
    good = {"text": "Hi.", "src_lang": "en", "tgt_lang": "fr", "max_length": 1}
    calls: list[tuple[dict[str, Any], str, httpx.Response]] = []
    with server.client(CLIENT_KEY) as http, server.client() as anonymous:
        for body in (good, {**good, "tgt_lang": "xx"}, {**good, "model": "nope"}, {**good, "text": "x" * 3000}):
            calls.append((post, "TranslationResponse", http.post("/v1/translate", json=body)))
        calls.append((post, "", anonymous.post("/v1/translate", json=good)))
        for params in ({}, {"model": "nope"}):
            calls.append((get, "TranslationLanguages", http.get("/v1/translate/languages", params=params)))
    assert {r.status_code for _, _, r in calls} == {200, 400, 401, 404, 413}
    for operation, schema, response in calls:
        assert str(response.status_code) in operation["responses"], (response.status_code, response.text)
        if response.status_code == 200:
            getattr(schemas, schema).model_validate(response.json())  # unknown keys are refused


def test_translations_draw_on_the_token_quota(tmp_path: Path, tiny_nllb_dir: Path) -> None:
    settings = translation_settings(tmp_path / "cache", str(tiny_nllb_dir), quotas="clientA:tokens_per_day=1")
    with live_server(settings) as live:
        first = translate(live, text="Hi.", src_lang="en", tgt_lang="fr", max_length=1)
        assert first.status_code == 200, first.text  # under the quota when it starts: it may go over
        used = first.json()["usage"]["total_tokens"]

        def counted() -> bool:
            with live.client(ADMIN_KEY) as http:
                quotas = http.get("/api/admin/quotas").json()["data"]
            return any(q["client"] == "clientA" and q["tokens_used"] == used for q in quotas)

        wait_until(counted, "the translation's tokens counted")
        refused = translate(live, text="Hi.", src_lang="en", tgt_lang="fr")
        assert refused.status_code == 429 and error_of(refused)["code"] == "insufficient_quota"
