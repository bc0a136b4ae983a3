"""The search primitives of the store interface (reportqa.stores.SearchIndex) over an index held in memory.

ReportIndex (reportqa.store) loads FAISS, bm25s and the chunk table into the
process; these methods answer the searcher's questions from them, where the
PostgreSQL store (reportqa.pgstore.index) answers the same ones in SQL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import numpy as np

from reportqa.periods import absolute_years


def respelling_pattern(term: str, escape: Callable[[str], str]) -> str:
    """A regular expression for the term with any one character replaced by a Chinese character;
    escape quotes the rest for the engine that runs it (Python's re or PostgreSQL's)."""
    return "|".join(escape(term[:i]) + "[\u4e00-\u9fff]" + escape(term[i + 1 :]) for i in range(len(term)))


ABBREVIATION_GAP = 3  # characters a Chinese abbreviation may leave out between two it keeps: 国[家]高[新技术]企[业]


def spelled_out_pattern(term: str) -> str:
    """A regular expression for the strings that hold the term's characters in order, each at most
    ABBREVIATION_GAP Chinese characters after the one before, and up to as many after the last
    (where the last kept character's word may go on: 诈 of 诈骗). The term is Chinese characters only."""
    gap = f"[\u4e00-\u9fff]{{0,{ABBREVIATION_GAP}}}"
    return gap.join(term) + gap


class InMemorySearch:
    """Mixed into ReportIndex: uses its chunks, documents, vectors, dense (FAISS) and bm25."""

    def allowed_ids(self, filters: dict | None) -> np.ndarray | None:
        """Ids of the chunks whose report passes the filters (metadata belongs to reports)."""
        if not filters or not any(filters.values()):
            return None
        passing = {report.source for report in self.catalog.in_scope(filters)}
        reports = [k for k, source in enumerate(self.documents) if source in passing]
        return np.flatnonzero(np.isin(self.report_of_chunk, reports))

    def dense_scores(self, query_vector: np.ndarray, allowed: np.ndarray | None, n: int) -> tuple[list[int], dict[int, float]]:
        """The n nearest chunks. Filtered queries are scored exactly over the stored vectors: an
        approximate index with an id selector returned a third of them (eval/reports/bench.md)."""
        if allowed is None:
            scores, ids = self.dense.search(query_vector.reshape(1, -1), min(n, self.dense.ntotal))
            pairs = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        else:
            scores = (self.vectors @ query_vector)[allowed]
            top = np.argsort(-scores, kind="stable")[:n]
            pairs = [(int(allowed[t]), float(scores[t])) for t in top]
        return [i for i, _ in pairs], dict(pairs)

    def bm25_scores(self, tokens: list[str], allowed: np.ndarray | None, n: int) -> tuple[list[int], np.ndarray]:
        """The n best chunks by BM25 with a score above 0, and every chunk's score."""
        scores = self.bm25.get_scores(tokens) if tokens else np.zeros(len(self.chunks))
        pool = allowed if allowed is not None else np.arange(len(scores))
        pool = pool[scores[pool] > 0]
        order = pool[np.argsort(-scores[pool], kind="stable")][:n]
        return [int(i) for i in order], scores

    def vectors_of(self, ids: list[int]) -> np.ndarray:
        return self.vectors[ids]

    def speaks_of(self, allowed: np.ndarray | None, years: set[int]) -> bool:
        """Does any chunk in scope speak of one of the years, by its section or in its text?"""
        ids = range(len(self.chunks)) if allowed is None else allowed.tolist()
        return any(self.chunk_years[self.chunks[i].id] & years or absolute_years(self.chunks[i].text) & years for i in ids)

    def texts_holding(self, sources: list[str], groups: list[list[str]]) -> dict[str, str]:
        """Source → text of the reports among sources whose text holds every string of some group."""
        texts = {s: self.documents[s].text for s in sources}
        return {s: t for s, t in texts.items() if any(all(w in t for w in group) for group in groups)}

    def respelling(self, term: str) -> str:
        """The commonest string in the documents that differs from term in one character (first seen wins a tie)."""
        pattern = re.compile(respelling_pattern(term, re.escape))
        seen = Counter(m.group(0) for d in self.documents.values() for m in pattern.finditer(d.text))
        return seen.most_common(1)[0][0] if seen else ""

    def spellings(self, term: str) -> Counter[str]:
        """The documents' strings that may spell the term out (spelled_out_pattern), with their counts."""
        pattern = re.compile(spelled_out_pattern(term))
        return Counter(m.group(0) for d in self.documents.values() for m in pattern.finditer(d.text))

    def sample(self, limit: int, seed: int = 0) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Up to limit chunks (here all) to calibrate against: their ids, vectors and reports."""
        return list(range(len(self.chunks))), self.vectors, self.report_of_chunk
