"""Typos and abbreviations in a question, read as the corpus's own words: 天木山镇 → 天目山镇, 电诈 → 电信网络诈骗.

Staff type Chinese through a pinyin input method, so a typo is nearly always a character that
sounds like the intended one, and it leaves a word no document holds (天木, 腾龙). A string of
the question over such a word, itself in no document, that sounds (toneless pinyin, each
character's common reading) like a word of the corpus differing from it in one character, is
read as that word: a place or a term of the index's dictionary as such, any other word where a
document holds it beside the question's own neighbouring character (「生态文」 for 「生太文」). An
abbreviation (国高企) is no typo: nothing in the corpus sounds like it there; nor is a string
of words the corpus holds (面积有 is no typo of 面积只有).

An abbreviation is the other word no report uses: 电诈 for 电信网络诈骗, 国高企 for 国家高新技术企业.
Chinese shortens a phrase by keeping the first character of its words, so a word of the question
that no document holds, made of no corpus words and not in the language's dictionary (修路 and
在外 are words, not abbreviations), is read as the commonest string of the documents whose words
(or their parts: 固定|资产|投资 of the one term 固定资产投资)
open, in order, with its characters, ending in a noun, where the question uses it as a noun
(「新修了」 is no abbreviation of 新老修正主义).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Container, Iterator
from functools import cache

from pypinyin import lazy_pinyin, pinyin_dict

from reportqa.lexicon import STOPWORDS, Tokenizer, nounish

CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
LENGTHS = (4, 3, 2)  # longer strings first: 天木山镇 before 天木


@cache
def _sounding() -> dict[str, str]:
    """Toneless common reading → every character so read (the basic CJK block)."""
    by_sound: dict[str, list[str]] = {}
    for code in range(0x4E00, 0xA000):
        if code in pinyin_dict.pinyin_dict:
            by_sound.setdefault(lazy_pinyin(chr(code))[0], []).append(chr(code))
    return {reading: "".join(chars) for reading, chars in by_sound.items()}


def homophone_variants(word: str) -> Iterator[str]:
    """The word with one character replaced by another that sounds the same."""
    sounding = _sounding()
    for i, (char, reading) in enumerate(zip(word, lazy_pinyin(word))):
        for other in sounding.get(reading, ""):
            if other != char:
                yield word[:i] + other + word[i + 1 :]


def respell(question: str, tokenizer: Tokenizer, known: Callable[[str], bool], terms: Container[str],
            holds: Callable[[str], bool]) -> tuple[str, list[tuple[str, str]]]:
    """The question with its typos respelled, and each as (typed, read as). known: is it a word
    of the corpus; terms: the places and dictionary terms of the index; holds: does a document
    hold the string."""
    unheld, at = [], 0  # the spans of the words no document holds
    for word in tokenizer.words(question):
        at = question.find(word, at)
        if not holds(word):
            unheld.append(range(at, at + len(word)))
        at += len(word)
    fixes: list[tuple[int, int, str]] = []
    for run in CJK_RUN.finditer(question):
        for start in range(run.start(), run.end()):
            if fixes and start < fixes[-1][1]:
                continue
            for end in (start + n for n in LENGTHS if start + n <= run.end()):
                word = ""
                if any(span.start < end and start < span.stop for span in unheld):
                    word = _respelled(question, start, end, tokenizer, known, terms, holds)
                if word:
                    fixes.append((start, end, word))
                    break
    text = question
    for start, end, word in reversed(fixes):
        text = text[:start] + word + text[end:]
    return text, [(question[start:end], word) for start, end, word in fixes]


def _respelled(question: str, start: int, end: int, tokenizer: Tokenizer, known: Callable[[str], bool],
               terms: Container[str], holds: Callable[[str], bool]) -> str:
    """A word of the language is no typo though no report uses it: 「前年」 is not 千年. A particle
    beside it (的, 有) says nothing of which word was meant: 「的人里有」 is no 人力."""
    typed, before, after = question[start:end], question[start - 1 : start], question[end : end + 1]
    alike = [v for v in dict.fromkeys(homophone_variants(typed)) if v in terms or known(v)]
    if not alike or tokenizer.in_dictionary(typed) or holds(typed):
        return ""
    before, after = (c if c not in STOPWORDS else "" for c in (before, after))  # 「的人力」 is held beside any noun
    for word in alike:
        if word in terms or (before and holds(before + word)) or (after and holds(word + after)):
            return word
    return ""


def spell_out(question: str, tokenizer: Tokenizer, known: Callable[[str], bool], holds: Callable[[str], bool],
              spellings: Callable[[str], Counter[str]]) -> tuple[str, list[tuple[str, str]]]:
    """The question with its abbreviations written out, and each as (typed, read as). known: is it
    made of corpus words; holds: does a document hold the string (a scan of the documents, so
    asked last); spellings: the documents' strings holding a term's characters in order (the
    store's)."""
    found = []
    for word in dict.fromkeys(tokenizer.words(question)):
        if (len(word) >= 2 and CJK_RUN.fullmatch(word) and not known(word) and not tokenizer.in_dictionary(word)
                and _names_a_thing(question, word, tokenizer) and not holds(word)):
            readings = Counter()
            for text, count in spellings(word).items():
                readings[_opened_by(word, tokenizer.tagged(text), tokenizer.smallest_parts)] += count
            readings.pop("", None)
            if readings:
                found.append((word, readings.most_common(1)[0][0]))
    for typed, read in found:
        question = question.replace(typed, read)
    return question, found


def _names_a_thing(question: str, word: str, tokenizer: Tokenizer) -> bool:
    """Does the question use the word as a noun? jieba's tagger reads the question's own grammar:
    「国高企」 ends in the noun 企, 「电诈」 is a verbal noun, while 「新修了几公里」 is an adjective and
    a verb (新/修), no abbreviation of 新老修正主义."""
    end, at = question.find(word) + len(word), 0
    for token, flag in tokenizer.tagged(question):
        at = question.find(token, at) + len(token)
        if at >= end:
            return nounish(token, flag, verbal=True)
    return False


def _opened_by(abbreviation: str, words: list[tuple[str, str]], parts: Callable[[str], list[str]]) -> str:
    """The words, from the first, up to the one its last character opens, when each of its
    characters opens one of them or one of their parts, in order, and the last is a noun: an
    abbreviation names a thing (电信/网络/诈骗 for 电诈, 固定/资产/投资 of the one term 固定资产投资
    for 固投; not 租/或/出售/给 for 租给); "" otherwise."""
    kept = 0
    for n, (word, flag) in enumerate(words):
        opened = 0
        for part in parts(word) or [word]:
            if part.startswith(abbreviation[kept + opened]):
                opened += 1
                if kept + opened == len(abbreviation):
                    return "".join(w for w, _ in words[: n + 1]) if nounish(word, flag, verbal=True) else ""
        if n == 0 and not word.startswith(abbreviation[0]):
            return ""
        kept += opened
    return ""
