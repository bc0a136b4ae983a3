"""Chinese tokens for BM25: jieba plus a user dictionary made from the corpus.

Out of the box jieba splits the words staff search for most (未来社区 → 未来 /
社区, 普光村 → 普光 / 村), and generic tokens (镇, 的, 工作) would dominate
scores. So the index carries a user dictionary of place names and quoted policy
terms, and generic tokens are dropped.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import jieba
import jieba.posseg

from reportqa.periods import arabic_years

jieba.setLogLevel(logging.WARNING)

# Policy terms that recur across Chinese local-government reports.
POLICY_TERMS = (
    "未来社区", "未来乡村", "亩均论英雄", "最多跑一次", "污水零直排", "共同富裕", "乡村振兴", "专精特新",
    "小升规", "个转企", "低小散污", "腾笼换鸟", "五水共治", "三服务", "双减", "美丽城镇", "数字化改革",
    "营商环境", "招商引资", "高标准农田", "文化礼堂", "村两委", "枫桥经验", "一件事", "非粮化",
    "规上工业总产值", "规上工业增加值", "固定资产投资", "一般公共预算收入", "财政总收入",
)
STOPWORDS = frozenset(
    "的 了 和 与 及 等 是 在 有 为 对 以 把 将 从 中 上 下 年 月 日 镇 乡 村 区 县 市 省 街道 我们 我 他们 这 那 "
    "哪个 哪些 哪里 什么 怎么 如何 多少 几 吗 呢 啊 吧 提到 提及 方面 工作 进行 开展 推进 加强 全面 一个 "
    "一是 二是 三是 四是 同时 以及 并 也 都 就 还 要 其中 通过 实现 今年 全年 一年 个 家 项".split()
)
QUOTED = re.compile(r"“([\u4e00-\u9fff]{2,8})”")
VILLAGE = re.compile(r"(?<![\u4e00-\u9fff等各个全本该])([\u4e00-\u9fff]{2}村)(?=[、，。和与及文化党的]|$)")
TOKEN_OK = re.compile(r"[\u4e00-\u9fff0-9a-zA-Z]")


def dictionary_terms(texts: Iterable[str], names: Iterable[str]) -> list[str]:
    """Words to keep whole: metadata place names, quoted terms, village names, known policy terms."""
    found: Counter[str] = Counter()
    for text in texts:
        found.update(QUOTED.findall(text))
        found.update(VILLAGE.findall(text))
    terms = set(POLICY_TERMS) | {n for n in names if n} | {t for t in found if t not in STOPWORDS}
    return sorted(terms)


def nounish(word: str, flag: str, verbal: bool = False) -> bool:
    """Does a tagged word name a thing (the part of a question that a report's sentence repeats)?
    The user dictionary's terms (flag x) are nouns; verbal nouns (建设, 改革) when asked."""
    return flag[0] == "n" or flag in ("eng", "l", "i", "an") or (flag == "x" and len(word) >= 2) or (verbal and flag == "vn")


def nouns_of(tagged: Iterable[tuple[str, str]]) -> list[str]:
    """The nouns and verbal nouns among tagged words."""
    return [w for w, flag in tagged if nounish(w, flag, verbal=True) and w not in STOPWORDS]


class Tokenizer:
    """jieba with the index's user dictionary; the same instance tokenizes passages and queries."""

    def __init__(self, terms: Iterable[str] = ()):
        self.terms = sorted(set(terms))
        self._jieba = jieba.Tokenizer()
        for term in self.terms:
            self._jieba.add_word(term, freq=20000)
        self._tagger = jieba.posseg.POSTokenizer(self._jieba)

    def tokens(self, text: str) -> list[str]:
        return [
            t.lower()
            for t in self._jieba.cut_for_search(arabic_years(text))
            if t.strip() and t not in STOPWORDS and TOKEN_OK.search(t)
        ]

    def smallest_parts(self, text: str) -> list[str]:
        """The text's tokens that hold no other (工业产值 → 工业, 产值; 学雷锋 → 学, 雷锋): the words a
        report may write apart."""
        tokens = self.tokens(text)
        return [t for t in tokens if not any(o != t and o in t for o in tokens)]

    def tagged(self, text: str) -> list[tuple[str, str]]:
        """Words with jieba's part-of-speech flags (ns place, r pronoun, …); the user dictionary's
        terms come back whole, flagged "x"."""
        return [(pair.word, pair.flag) for pair in self._tagger.cut(text) if pair.word.strip()]

    def nouns(self, text: str) -> list[str]:
        """The text's nouns and verbal nouns: 制造业、投资 of 「制造业投资要涨」."""
        return nouns_of(self.tagged(text))

    def words(self, text: str) -> list[str]:
        """Plain segmentation with the user dictionary, stopwords kept: the words a term is made of."""
        return [w for w in self._jieba.cut(text) if w.strip()]

    def in_dictionary(self, word: str) -> bool:
        """Is it a word of jieba's dictionary or the user dictionary, not one jieba's HMM guessed (电诈)?"""
        self._jieba.check_initialized()
        return bool(self._jieba.FREQ.get(word))

    def save(self, path: Path) -> None:
        path.write_text("\n".join(f"{t} 20000" for t in self.terms) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Tokenizer":
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls(line.rsplit(" ", 1)[0] for line in lines if line.strip())
