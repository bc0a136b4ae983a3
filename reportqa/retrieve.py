"""Hybrid retrieval: dense vectors for paraphrases, BM25 for exact terms and numbers.

Neither alone serves staff: 「生活不能自理的老人」 needs vectors to find 失能老人,
「亩均论英雄」 or a village name needs exact tokens. Both candidate lists are
fused by reciprocal rank, after metadata filters narrow the pool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import faiss
import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from reportqa.ingest import Chunk
from reportqa.ingest.clean import simplified
from reportqa.stores import SearchIndex

RRF_K = 60
# BM25 counts double in the fusion: staff mostly type the reports' own terms, and on the gold
# set (eval/reports/retrieval.md) equal weights cost exact-term questions more than they gained.
FUSION_WEIGHTS = {"dense": 0.5, "bm25": 1.0}
CANDIDATES = 50
DUPLICATE_BIGRAM_JACCARD = 0.8
FILTER_FIELDS = ("town", "county", "city", "province", "year", "doc_type", "source")
MODES = ("hybrid", "dense", "bm25")
SENTENCE_CACHE = 20_000


@dataclass
class Passage:
    chunk: Chunk
    score: float  # fused score scaled to 0–1 (1 = first in both lists)
    dense: float  # cosine similarity to the question
    bm25: float  # raw BM25 score (0 = no shared token)
    rank: int = 0

    def source_label(self) -> str:
        """The passage's report as users know it: 「凤桥镇 · 2023年 · 政府工作报告」, never a file name."""
        from reportqa.catalog import Report

        return Report.from_meta(self.chunk.source, self.chunk.meta).label()

    def as_json(self) -> dict:
        """The passage object of the `search --json` / `ask --jsonl` contract."""
        from reportqa.catalog import Report

        report = Report.from_meta(self.chunk.source, self.chunk.meta)
        return {
            "source": self.chunk.source,
            "title": report.title,
            "issuer": report.issuer,
            "town": self.chunk.meta.get("town", ""),
            "year": self.chunk.meta.get("year", ""),
            "doc_type": self.chunk.meta.get("doc_type", ""),
            "section": self.chunk.section,
            "text": self.chunk.text,
            "score": round(self.score, 4),
        }


def bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _near_duplicate(a: Chunk, b: Chunk) -> bool:
    x, y = bigrams(a.text), bigrams(b.text)
    return bool(x and y) and len(x & y) / len(x | y) >= DUPLICATE_BIGRAM_JACCARD


def without(passages: list[Passage], seen: list[Passage]) -> list[Passage]:
    """The passages not already among those seen, in their order."""
    ids = {p.chunk.id for p in seen}
    return [p for p in passages if p.chunk.id not in ids]


def rrf(rankings: dict[str, list[int]], k: int = RRF_K) -> dict[int, float]:
    """Weighted reciprocal-rank fusion of named rankings."""
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        for rank, item in enumerate(ranking):
            fused[item] = fused.get(item, 0.0) + FUSION_WEIGHTS[name] / (k + rank + 1)
    return fused


class HybridSearcher:
    """Searches one loaded index; holds the embedder so a query embeds once."""

    def __init__(self, index: SearchIndex, embedder, reranker=None):
        self.index = index
        self.embedder = embedder
        self.reranker = reranker
        self._sentence_vectors: dict[str, np.ndarray] = {}
        # One query at a time: a second OpenMP thread cost 5× the CPU per query (eval/reports/bench.md).
        faiss.omp_set_num_threads(1)

    @cached_property
    def median_idf(self) -> float:
        """The idf of the corpus's median word: a word below it is common (工作, 内容), one above it
        distinctive. Computed once per loaded index."""
        return float(np.median(list(self.index.idf.values()))) if self.index.idf else 0.0

    @cached_property
    def rarest_idf(self) -> float:
        """The idf of a word one passage holds: the most a word can say. Computed once per loaded index."""
        return max(self.index.idf.values(), default=1.0)

    @cached_property
    def names(self) -> set[str]:
        """The places of the catalog and the terms of the index's dictionary: words a typo is read as."""
        return {*self.index.catalog.places, *self.index.tokenizer.terms}

    def allowed_ids(self, filters: dict | None):
        """The chunks in scope, in the store's own form (None: all); passed back to its searches."""
        return self.index.allowed_ids(filters)

    def dense_scores(self, query_vector: np.ndarray, allowed, n: int) -> tuple[list[int], dict[int, float]]:
        return self.index.dense_scores(query_vector, allowed, n)

    def bm25_scores(self, query: str, allowed, n: int):
        """The n best chunks by BM25 and a lookup of their scores (0 for any other chunk)."""
        return self.index.bm25_scores(self.index.tokenizer.tokens(query), allowed, n)

    def understand(self, question: str, filters: dict | None = None):
        """What the question names and asks, read against this index's catalog and vocabulary, its
        typos first respelled into the corpus's words (天木山镇 → 天目山镇) and its abbreviations
        written out (电诈 → 电信网络诈骗)."""
        from reportqa.question import understand
        from reportqa.spelling import respell, spell_out

        index = self.index
        text = simplified(question.strip())
        text, respelled = respell(text, index.tokenizer, index.idf.__contains__, self.names, index.holds)
        text, spelled = spell_out(text, index.tokenizer, index.knows, index.holds, index.spellings)
        u = understand(text, index.catalog, index.tokenizer, index.knows, filters)
        u.respelled = respelled + spelled
        return u

    def embed(self, text: str) -> np.ndarray:
        from reportqa.embed import embed_query

        return embed_query(self.embedder, text)

    def embed_sentences(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of answer candidates, kept between questions: nearby questions share sentences."""
        from reportqa.embed import embed_passages

        missing = [t for t in dict.fromkeys(texts) if t not in self._sentence_vectors]
        if missing:
            if len(self._sentence_vectors) > SENTENCE_CACHE:
                self._sentence_vectors.clear()
            self._sentence_vectors.update(zip(missing, embed_passages(self.embedder, missing)))
        return np.stack([self._sentence_vectors[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)

    def search(self, query: str, filters: dict | None = None, k: int = 10, mode: str = "hybrid", query_vector: np.ndarray | None = None) -> list[Passage]:
        query = simplified(query)
        allowed = self.allowed_ids(filters)
        query_vector = self.embed(query) if query_vector is None else query_vector
        dense_ids, dense = self.dense_scores(query_vector, allowed, CANDIDATES)
        bm25_ids, bm25 = self.bm25_scores(query, allowed, CANDIDATES)
        both = {"dense": dense_ids, "bm25": bm25_ids}
        rankings = both if mode == "hybrid" else {mode: both[mode]}
        fused = rrf(rankings)
        best = sum(FUSION_WEIGHTS[name] for name in rankings) / (RRF_K + 1)
        passages: list[Passage] = []
        order = sorted(fused, key=fused.get, reverse=True)
        missing = [i for i in order if i not in dense]
        cosines = dict(zip(missing, self.index.vectors_of(missing) @ query_vector)) if missing else {}
        for i in order:
            chunk = self.index.chunks[i]
            if any(_near_duplicate(chunk, p.chunk) for p in passages):
                continue
            cosine = dense[i] if i in dense else float(cosines[i])
            passages.append(Passage(chunk, fused[i] / best, cosine, float(bm25[i])))
            if len(passages) >= max(k, CANDIDATES if self.reranker else k):
                break
        if self.reranker is not None:
            passages = self.reranker.rerank(query, passages)
        for rank, passage in enumerate(passages[:k], 1):
            passage.rank = rank
        return passages[:k]


class HybridRetriever(BaseRetriever):
    """The searcher behind LangChain's retriever interface, for chains."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    searcher: HybridSearcher
    k: int = 10
    filters: dict = {}

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        return [
            LCDocument(page_content=p.chunk.text, metadata={**p.as_json(), "passage": p})
            for p in self.searcher.search(query, self.filters, self.k)
        ]


class CrossEncoderReranker:
    """Optional: a sentence-transformers CrossEncoder loaded from a local path (none ships offline)."""

    def __init__(self, path: str):
        from sentence_transformers import CrossEncoder

        self.model = CrossEncoder(path, local_files_only=True)

    def rerank(self, query: str, passages: list[Passage]) -> list[Passage]:
        scores = self.model.predict([(query, p.chunk.text) for p in passages])
        return [p for _, p in sorted(zip(scores, passages), key=lambda pair: -pair[0])]


def open_searcher(settings, build_if_stale: bool = True, show_progress: bool = True, log: Callable[[str], None] = lambda message: None,
                  repair: bool = False) -> HybridSearcher:
    """Load the embedder and the index once; build the index first when it is missing or stale, and
    rebuild a damaged one only when repair is set (store.ready_index says which and why)."""
    from reportqa.embed import load_embedder, model_id
    from reportqa.stores import ready_index

    embedder = load_embedder(settings.embed_model)
    index = ready_index(settings, model_id(embedder), build_if_stale, repair, show_progress, log)
    reranker = CrossEncoderReranker(settings.reranker_path) if settings.reranker_path else None
    return HybridSearcher(index, embedder, reranker)
