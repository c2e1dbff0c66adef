"""Words of the catalog search: Chinese word segmentation (rjieba, the Rust port of jieba) and pinyin
(pypinyin). Pure functions, no database: the index (``services.search``) and the query
(``selectors``) cut text the same way, so that a word found in a query is a word of the index.

Items are indexed with the fine-grained cut (营业执照 → 营业, 执照, 营业执照) so that a query's
coarser words and their parts all find them; queries are cut coarsely (怎么办理营业执照 → 怎么, 办理,
营业执照). Pinyin belongs to the vocabulary, not to every indexed row: a query in Latin letters is
turned into the Chinese words whose full pinyin or initials it spells, then looked up like them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import rjieba
from pypinyin import Style, lazy_pinyin

MAX_TERM = 50  # characters of one indexed word (the column's length)

# Weight of a word by the field it was found in: a word in the name counts most.
WEIGHT_NAME = 16
WEIGHT_KEYWORD = 8
WEIGHT_CONTEXT = 3  # department, theme
WEIGHT_CONDITIONS = 1

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"^[a-z0-9]+$")
_WORD_CHARS = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SEPARATORS = re.compile(r"[\s,，、;；/|]+")

# Words that carry no meaning in a query about a service (我要开饭店, 怎么办理营业执照).
QUERY_STOPWORDS = frozenset(
    [
        "我",
        "我要",
        "我想",
        "想",
        "想要",
        "要",
        "要求",
        "怎么",
        "怎么样",
        "怎样",
        "如何",
        "哪里",
        "在哪",
        "在哪里",
        "哪儿",
        "什么",
        "需要",
        "能否",
        "可以",
        "能",
        "办",
        "办理",
        "申请",
        "申办",
        "查询",
        "一下",
        "请问",
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "等",
        "吗",
        "呢",
        "去",
        "在",
        "给",
    ]
)


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case, outer blanks removed."""
    return unicodedata.normalize("NFKC", text or "").lower().strip()


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def is_latin(text: str) -> bool:
    """Letters and digits only: typed as pinyin, initials or a Latin word."""
    return bool(_LATIN.match(text))


def clean(token: str) -> str:
    """A token without punctuation, cut to the column's length ('' when nothing is left)."""
    return _WORD_CHARS.sub("", normalize(token))[:MAX_TERM]


@lru_cache(maxsize=65536)
def pinyin(word: str) -> tuple[str, str]:
    """(full pinyin, initials) without tones: 营业执照 → ('yingyezhizhao', 'yyzz'); a Latin word is its own."""
    if not has_han(word):
        return word, ""
    syllables = [clean(s) for s in lazy_pinyin(word, style=Style.NORMAL, errors="default")]
    syllables = [s for s in syllables if s]
    initials = "".join(s[0] for s in syllables)
    return "".join(syllables)[:200], initials[:MAX_TERM]


@lru_cache(maxsize=65536)
def index_words(text: str, whole: bool = True) -> frozenset[str]:
    """The words under which a text is found: its fine-grained cut (two characters or more, or a Latin
    word) and, with ``whole``, the text itself without punctuation (so that a name's full pinyin finds it)."""
    words = set()
    for token in rjieba.cut_for_search(normalize(text)):
        word = clean(token)
        if len(word) >= 2 or (word and not has_han(word) and word.isalpha()):
            words.add(word)
    if whole:
        full = clean(text)
        if len(full) >= 2:
            words.add(full)
    return frozenset(words)


def keyword_words(keywords: str) -> frozenset[str]:
    """Keywords are separated by blanks or commas; each is a word, and so are its parts."""
    words: set[str] = set()
    for keyword in _SEPARATORS.split(keywords or ""):
        if keyword.strip():
            words |= index_words(keyword)
    return frozenset(words)


def weighted_terms(fields: dict[str, list[str]]) -> dict[str, int]:
    """Each indexed word with the sum of the weights of the fields it occurs in (once per field).

    ``fields`` maps ``name`` / ``keywords`` / ``context`` / ``conditions`` to texts."""
    weights = {
        "name": WEIGHT_NAME,
        "keywords": WEIGHT_KEYWORD,
        "context": WEIGHT_CONTEXT,
        "conditions": WEIGHT_CONDITIONS,
    }
    terms: dict[str, int] = {}
    for field, texts in fields.items():
        words: set[str] = set()
        for text in texts:
            if field == "keywords":
                words |= keyword_words(text)
            else:
                # conditions are long prose: their words, not the whole text
                words |= index_words(text, whole=field != "conditions")
        for word in words:
            terms[word] = terms.get(word, 0) + weights[field]
    return terms


def query_words(query: str) -> list[str]:
    """Every word of a query, in order: a part typed in Latin letters stays whole (``yingyezhizhao``,
    ``yyzz``), Chinese is cut coarsely, punctuation goes."""
    words: list[str] = []
    for part in _SEPARATORS.split(normalize(query)):
        if not part.strip():
            continue
        if is_latin(clean(part)):
            words.append(clean(part))
            continue
        words.extend(w for w in (clean(token) for token in rjieba.cut(part)) if w)
    return words


def meaningful(words: list[str]) -> list[str]:
    """The words worth looking up, once each: no stop words, no lone characters, unless nothing else is left."""
    unique = list(dict.fromkeys(words))
    kept = [w for w in unique if w not in QUERY_STOPWORDS and (len(w) >= 2 or not has_han(w))]
    return kept or unique


def substrings(query: str, longest: int = 12) -> set[str]:
    """Every run of two to ``longest`` characters of the query's parts: the phrases a synonym may stand
    for, wherever the segmentation happens to cut (我想开个小店 is cut 我 / 想开 / 个 / 小店)."""
    found = set()
    for part in _SEPARATORS.split(normalize(query)):
        chars = clean(part)
        for size in range(2, min(longest, len(chars)) + 1):
            found.update(chars[i : i + size] for i in range(len(chars) - size + 1))
    return found


def take_phrases(query: str, phrases: set[str]) -> tuple[list[str], str]:
    """The known ``phrases`` found in the query (longest first, not overlapping) and the rest of the
    query, with a blank where each phrase was."""
    taken: list[str] = []
    parts = [clean(part) for part in _SEPARATORS.split(normalize(query))]
    for phrase in sorted(phrases, key=len, reverse=True):
        for index, part in enumerate(parts):
            if phrase in part:
                parts[index] = part.replace(phrase, " ")
                if phrase not in taken:
                    taken.append(phrase)
    return taken, " ".join(parts)


def parts(word: str) -> list[str]:
    """The smaller words inside a word (监督管理 → 监督, 管理), for a query word the index does not know."""
    return [w for w in rjieba.cut_for_search(word) if w != word and len(clean(w)) >= 2]
