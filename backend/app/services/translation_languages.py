"""Language names for translation: what a request may call a language, and the model codes each can mean.

A request names a language by the model's own code (`fra_Latn`, a fine-tune's `moor_Latn`, M2M100's `fr`),
or by a friendly name or an ISO code (`french`, `fr`, `fra`, `fr_Latn`, `fr-FR`). A name maps to
CANDIDATE codes, the first one the loaded model knows wins: `moore` is `moor_Latn` on a fine-tune that
added that token (BurkimbIA's), `mos_Latn` on NLLB-200 itself. The operator extends the table with
TRANSLATION_LANGUAGE_ALIASES, whose entries come first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

# (FLORES-200 candidate codes, ISO 639-1 code or "", other names: ISO 639-2/3 codes, English, French and own names)
_LANGUAGES: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    (("eng_Latn",), "en", ("eng", "english", "anglais")),
    (("fra_Latn",), "fr", ("fra", "fre", "french", "francais", "français")),
    (("spa_Latn",), "es", ("spa", "spanish", "espanol", "español", "espagnol", "castilian")),
    (("por_Latn",), "pt", ("por", "portuguese", "portugues", "português", "portugais")),
    (("deu_Latn",), "de", ("deu", "ger", "german", "deutsch", "allemand")),
    (("ita_Latn",), "it", ("ita", "italian", "italiano", "italien")),
    (("nld_Latn",), "nl", ("nld", "dut", "dutch", "nederlands", "neerlandais")),
    (("rus_Cyrl",), "ru", ("rus", "russian", "russe")),
    (("ukr_Cyrl",), "uk", ("ukr", "ukrainian")),
    (("pol_Latn",), "pl", ("pol", "polish", "polonais")),
    (("tur_Latn",), "tr", ("tur", "turkish", "turc")),
    (("arb_Arab",), "ar", ("ara", "arb", "arabic", "arabe")),
    (("zho_Hans",), "zh", ("zho", "chi", "cmn", "chinese", "mandarin", "chinois", "simplified chinese")),
    (("zho_Hant",), "", ("traditional chinese", "zh_hant", "zh_tw")),
    (("jpn_Jpan",), "ja", ("jpn", "japanese", "japonais")),
    (("kor_Hang",), "ko", ("kor", "korean", "coreen")),
    (("hin_Deva",), "hi", ("hin", "hindi")),
    (("ben_Beng",), "bn", ("ben", "bengali", "bangla")),
    (("urd_Arab",), "ur", ("urd", "urdu")),
    (("pes_Arab",), "fa", ("fas", "per", "pes", "persian", "farsi", "persan")),
    (("ind_Latn",), "id", ("ind", "indonesian", "indonesien")),
    (("zsm_Latn",), "ms", ("msa", "may", "zsm", "malay")),
    (("vie_Latn",), "vi", ("vie", "vietnamese", "vietnamien")),
    (("tha_Thai",), "th", ("tha", "thai")),
    (("tgl_Latn",), "tl", ("tgl", "fil", "tagalog", "filipino")),
    (("ell_Grek",), "el", ("ell", "gre", "greek", "grec")),
    (("heb_Hebr",), "he", ("heb", "hebrew", "hebreu")),
    (("ron_Latn",), "ro", ("ron", "rum", "romanian", "roumain")),
    (("swe_Latn",), "sv", ("swe", "swedish", "suedois")),
    (("ces_Latn",), "cs", ("ces", "cze", "czech", "tcheque")),
    (("hun_Latn",), "hu", ("hun", "hungarian", "hongrois")),
    (("amh_Ethi",), "am", ("amh", "amharic", "amharique")),
    (("swh_Latn",), "sw", ("swa", "swh", "swahili", "kiswahili")),
    (("som_Latn",), "so", ("som", "somali")),
    (("gaz_Latn",), "om", ("orm", "gaz", "oromo")),
    (("tir_Ethi",), "ti", ("tir", "tigrinya")),
    (("kin_Latn",), "rw", ("kin", "kinyarwanda")),
    (("lug_Latn",), "lg", ("lug", "luganda", "ganda")),
    (("zul_Latn",), "zu", ("zul", "zulu")),
    (("xho_Latn",), "xh", ("xho", "xhosa")),
    (("lin_Latn",), "ln", ("lin", "lingala")),
    (("sag_Latn",), "sg", ("sag", "sango")),
    # West Africa. Mooré: a fine-tune's own token first (a model carries it only when trained for it).
    (("moor_Latn", "mos_Latn"), "", ("mos", "moore", "mooré", "mòoré", "mossi")),
    (("dyu_Latn",), "", ("dyu", "dioula", "dyula", "jula")),
    (("bam_Latn",), "bm", ("bam", "bambara", "bamanankan")),
    (("fuv_Latn",), "ff", ("ful", "fuv", "fuf", "fula", "fulfulde", "fulani", "peul", "pulaar")),
    (("hau_Latn",), "ha", ("hau", "hausa", "haoussa")),
    (("yor_Latn",), "yo", ("yor", "yoruba")),
    (("ibo_Latn",), "ig", ("ibo", "igbo")),
    (("wol_Latn",), "wo", ("wol", "wolof")),
    (("ewe_Latn",), "ee", ("ewe",)),
    (("twi_Latn",), "tw", ("twi",)),
    (("aka_Latn",), "ak", ("aka", "akan")),
    (("fon_Latn",), "", ("fon",)),
    (("kbp_Latn",), "", ("kbp", "kabiye", "kabiyè")),
)

_LANGUAGE_PART = re.compile(r"^([a-z]{2,3})(?:_([a-z]{4}|[a-z]{2}|\d{3}))?$")
"""A tag with a script or a region: `fr_Latn`, `fr-FR`, `pt_BR`, `es-419` (normalised: lower case, `_`)."""


def normalise(name: str) -> str:
    """How names are compared: case, accents, surrounding spaces and `-` vs `_` do not matter."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("-", "_")


def _builtin() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for codes, iso1, names in _LANGUAGES:
        candidates = [*codes, *([iso1] if iso1 else [])]  # M2M100 models name languages by ISO 639-1 codes
        for name in (*([iso1] if iso1 else []), *names):
            table.setdefault(normalise(name), candidates)
    return table


BUILTIN_ALIASES: dict[str, list[str]] = _builtin()


class LanguageTable:
    """Resolves a request's language names to a model's codes. `extra` (the operator's aliases) comes first."""

    def __init__(self, extra: Mapping[str, list[str]] | None = None) -> None:
        self.aliases: dict[str, list[str]] = {normalise(k): list(v) for k, v in (extra or {}).items()}
        for name, candidates in BUILTIN_ALIASES.items():
            self.aliases.setdefault(name, candidates)

    def candidates(self, name: str) -> list[str] | None:
        """The codes `name` can mean, in order of preference; None when the table does not know it."""
        key = normalise(name)
        if key in self.aliases:
            return self.aliases[key]
        match = _LANGUAGE_PART.match(key)
        if match is None or match.group(1) not in self.aliases:
            return None
        language, qualifier = match.groups()
        codes = self.aliases[language]
        if qualifier is not None and len(qualifier) == 4:  # a script: only codes written in it (or without one)
            return [c for c in codes if "_" not in c or c.lower().endswith("_" + qualifier)]
        return codes

    def resolve(self, name: str, codes: Iterable[str]) -> str | None:
        """The model code `name` means on a model with `codes`: the code itself (any case), else the first
        candidate of its alias the model knows; None when there is none."""
        folded = {c.casefold(): c for c in codes}
        for wanted in (name.strip(), *(self.candidates(name) or [])):
            if wanted.casefold() in folded:
                return folded[wanted.casefold()]
        return None

    def resolving(self, codes: Iterable[str]) -> dict[str, str]:
        """Every alias that resolves on a model with `codes`, and the code it resolves to."""
        known = set(codes)
        found: dict[str, str] = {}
        for name, candidates in self.aliases.items():
            code = next((c for c in candidates if c in known), None)
            if code is not None and name not in known:
                found[name] = code
        return dict(sorted(found.items()))
