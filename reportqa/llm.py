"""The chat model behind the answer chain, chosen by configuration.

Three backends, because deployments differ:

* ``extractive`` – no LLM at all. The chain answers with retrieved sentences;
  this is the default so the project works on a bare machine.
* ``openai`` – any OpenAI-compatible HTTP endpoint (``llama_cpp.server``,
  vLLM, Ollama's ``/v1``, OpenAI itself) through ``langchain_openai.ChatOpenAI``.
* ``gguf`` – a local GGUF file run in-process by ``llama_cpp``; no server to
  start, at the price of loading the model into this process.

Both LLM backends return a LangChain chat model (a ``Runnable`` that takes a
``ChatPromptValue`` / list of messages / string and returns an ``AIMessage``,
with ``.stream()`` yielding ``AIMessageChunk``), so the chain code is the same
whichever is configured. Every failure a user can fix – server down, wrong
URL, key rejected, package or model file missing – is raised as
:class:`LLMUnavailable` with the fix in the message.

:func:`guarded` wraps the model for the answer chain: it streams the reply
piece by piece (the app shows it as it comes), retries a busy or failing
server (HTTP 429/5xx) a bounded number of times with backoff, and turns
every fault of the call – refused connection, timeout, 4xx, 5xx, a
malformed, empty or cut-off reply – into :class:`LLMUnavailable` naming the
cause, so the chain can fall back to the extractive answer and say why.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import PrivateAttr

# llama.cpp's OpenMP threads spin-wait for each other by default. When any
# other process wants the cores (Gradio, the embedder, a parallel build) a
# spinning thread gets descheduled and generation collapses: on a busy 2-core
# machine, 0.3-1.9 tok/s spinning vs 7-9 tok/s passive. libgomp reads this once,
# when it is first loaded – by llama_cpp, or earlier by torch (which ships its
# own libgomp.so.1) – so it is set at import time, and only if the user has not.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

BACKENDS = ("extractive", "openai", "gguf")
DEFAULT_GGUF = Path("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
# llama_cpp.server's default address, so "start the server, set REPORTQA_LLM=openai" just works.
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
DEFAULT_MODEL = "qwen2.5-coder-1.5b-instruct"
ASSEMBLE_HINT = "python -m reportqa.assemble_model"
INSTALL_HINT = "pip install 'reportqa[llm]'"


class LLMUnavailable(Exception):
    """The configured LLM cannot be used; the message says what to set or run."""


@dataclass
class LLMConfig:
    """Which LLM to use and how. Built by the caller, or from env via :meth:`from_env`."""

    backend: str = "extractive"
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    api_key: str = ""
    timeout_s: float = 60.0
    gguf_path: Path = field(default_factory=lambda: DEFAULT_GGUF)
    temperature: float = 0.1
    max_tokens: int = 512
    # gguf only; 0 = every core this process may use.
    n_threads: int = 0
    # openai only: further attempts after HTTP 429/5xx, waiting backoff_s, 2×, 4× … (or the server's Retry-After, up to MAX_WAIT_S)
    retries: int = 2
    backoff_s: float = 1.0

    def __post_init__(self) -> None:
        self.backend = self.backend.strip().lower()
        if self.backend not in BACKENDS:
            raise LLMUnavailable(
                f"unknown LLM backend {self.backend!r}; set REPORTQA_LLM to one of {', '.join(BACKENDS)}"
            )
        self.gguf_path = Path(self.gguf_path)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "LLMConfig":
        """Read the REPORTQA_LLM* variables (see module docs); unset ones keep defaults.

        The GGUF default hangs off REPORTQA_HOME like the other paths in
        ``reportqa.config``, so a deployment folder carries its model with it.
        """
        env = os.environ if env is None else env
        home = Path(env.get("REPORTQA_HOME", "."))
        timeout = env.get("REPORTQA_LLM_TIMEOUT", "")
        try:
            timeout_s = float(timeout) if timeout else 60.0
        except ValueError:
            raise LLMUnavailable(f"REPORTQA_LLM_TIMEOUT must be a number of seconds, got {timeout!r}") from None
        threads = env.get("REPORTQA_LLM_THREADS", "")
        if threads and not threads.isdigit():
            raise LLMUnavailable(f"REPORTQA_LLM_THREADS must be a whole number (0 = all cores), got {threads!r}")
        return cls(
            backend=env.get("REPORTQA_LLM", "extractive"),
            base_url=env.get("REPORTQA_LLM_BASE_URL", DEFAULT_BASE_URL),
            model=env.get("REPORTQA_LLM_MODEL", DEFAULT_MODEL),
            api_key=env.get("REPORTQA_LLM_API_KEY") or env.get("OPENAI_API_KEY", ""),
            timeout_s=timeout_s,
            n_threads=int(threads or 0),
            gguf_path=Path(env.get("REPORTQA_GGUF_PATH", str(home / DEFAULT_GGUF))),
        )


def chat_model(cfg: LLMConfig) -> Runnable | None:
    """Return the chat model for *cfg*, or None for the extractive backend.

    Nothing is sent over the network here (call :func:`check_reachable` for
    that); the gguf backend does load the model, which takes a few seconds
    the first time and is cached afterwards.
    """
    if cfg.backend == "extractive":
        return None
    if cfg.backend == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            base_url=cfg.base_url,
            model=cfg.model,
            # Local servers ignore the key but the client refuses to start without one.
            api_key=cfg.api_key or "EMPTY",
            timeout=cfg.timeout_s,
            # Retries would multiply the wait on a dead server; the caller decides.
            max_retries=0,
            temperature=cfg.temperature,
            # ChatOpenAI's own max_tokens is sent as `max_completion_tokens`, which
            # llama_cpp.server (and other older OpenAI-compatible servers) silently
            # ignore, then generate up to the full context. Plain `max_tokens` is
            # understood by all of them, OpenAI included.
            extra_body={"max_tokens": cfg.max_tokens},
        )
    # Checked here, before pydantic gets involved, so the caller sees the plain message.
    _require_file(cfg.gguf_path)
    _require_llama_cpp()
    return LlamaCppChat(
        model_path=str(cfg.gguf_path), temperature=cfg.temperature, max_tokens=cfg.max_tokens,
        n_threads=cfg.n_threads,
    )


def check_reachable(cfg: LLMConfig, timeout_s: float = 3.0) -> None:
    """Raise :class:`LLMUnavailable` unless *cfg*'s LLM can be used right now.

    For ``openai`` this is a quick ``GET {base_url}/models`` with a short
    timeout, so a UI can say "server down" at start-up instead of after a
    60-second request timeout. For ``gguf`` it checks the package and file.
    """
    if cfg.backend == "gguf":
        _require_file(cfg.gguf_path)
        _require_llama_cpp()
        return
    if cfg.backend != "openai":
        return
    url = cfg.base_url.rstrip("/") + "/models"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {cfg.api_key or 'EMPTY'}"})
    try:
        with urllib.request.urlopen(request, timeout=min(timeout_s, cfg.timeout_s)) as response:
            json.load(response)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise LLMUnavailable(
                f"LLM server {url} rejected the API key (HTTP {exc.code}); set REPORTQA_LLM_API_KEY"
            ) from exc
        raise LLMUnavailable(
            f"LLM server {url} answered HTTP {exc.code}; REPORTQA_LLM_BASE_URL should be the API root, "
            f"usually ending in /v1"
        ) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LLMUnavailable(
            f"LLM server {url} is not reachable ({reason}); start it (e.g. "
            f"python -m llama_cpp.server --model {DEFAULT_GGUF}) or fix REPORTQA_LLM_BASE_URL, "
            f"or set REPORTQA_LLM=extractive"
        ) from exc
    except ValueError as exc:
        raise LLMUnavailable(f"LLM server {url} did not answer JSON; is REPORTQA_LLM_BASE_URL right?") from exc


RETRY_STATUS = (429, 500, 502, 503, 504)
MAX_WAIT_S = 10.0


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None)


def as_unavailable(exc: BaseException, cfg: LLMConfig) -> LLMUnavailable | None:
    """Translate an error raised while *invoking* an ``openai`` model, or None for anything else.

    ChatOpenAI raises the ``openai`` package's exceptions; the message names the cause and
    what to set, as :func:`check_reachable` does.
    """
    try:
        import openai
    except ImportError:  # pragma: no cover - langchain-openai depends on it
        return None
    url = cfg.base_url
    if isinstance(exc, openai.APITimeoutError):
        return LLMUnavailable(f"大模型服务 {url} 在 {cfg.timeout_s:g} 秒内没有回答；可调大 REPORTQA_LLM_TIMEOUT")
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailable(f"连不上大模型服务 {url}（连接被拒绝或中途断开）；请启动服务或检查 REPORTQA_LLM_BASE_URL")
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return LLMUnavailable(f"大模型服务 {url} 拒绝了密钥（HTTP {_status(exc)}）；请检查 REPORTQA_LLM_API_KEY")
    if isinstance(exc, openai.NotFoundError):
        return LLMUnavailable(f"大模型服务 {url} 没有模型 {cfg.model!r}（HTTP 404）；请检查 REPORTQA_LLM_MODEL")
    if isinstance(exc, openai.RateLimitError):
        return LLMUnavailable(f"大模型服务 {url} 繁忙（HTTP 429），重试 {cfg.retries} 次后仍被拒绝；请稍后再问")
    if isinstance(exc, openai.APIStatusError):
        status = _status(exc)
        side = "服务端出错" if status and status >= 500 else "拒绝了请求"
        retried = f"，重试 {cfg.retries} 次后仍失败" if status in RETRY_STATUS else ""
        return LLMUnavailable(f"大模型服务 {url} {side}（HTTP {status}）{retried}；请查看该服务的日志")
    if isinstance(exc, openai.APIError):
        return LLMUnavailable(f"大模型服务 {url} 的回复无法解析（{type(exc).__name__}）")
    return None


def _wait_s(exc: BaseException, attempt: int, cfg: LLMConfig) -> float:
    """The server's Retry-After when it gives one, else exponential backoff; never above MAX_WAIT_S."""
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after", "") if response is not None else ""
    wait = float(header) if header.replace(".", "", 1).isdigit() else cfg.backoff_s * 2**attempt
    return min(wait, MAX_WAIT_S)


def reply_pieces(model: Runnable, prompt: Any, cfg: LLMConfig) -> Iterator[str]:
    """The model's reply, piece by piece as it streams, so a page can show it while it is written.

    HTTP 429/5xx before the first piece is retried up to cfg.retries times (nothing has been
    shown yet, so a retry is invisible); every other fault, and any fault once text has been
    shown, raises LLMUnavailable naming the cause. A reply with no end (a cut stream) or no
    text is a fault too.
    """
    attempt = 0
    while True:
        shown = ""
        try:
            finish = None
            for chunk in model.stream(prompt):
                finish = (chunk.response_metadata or {}).get("finish_reason") or finish
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if piece:
                    shown += piece
                    yield piece
            if finish is None:
                raise LLMUnavailable("大模型的回复中途断开（没有收到结束标记）")
            if not shown.strip():
                raise LLMUnavailable("大模型返回了空回答")
            return
        except LLMUnavailable:
            raise
        except Exception as exc:  # whatever the client raises while talking to the model is a fault of the call
            if not shown and _status(exc) in RETRY_STATUS and attempt < cfg.retries:
                time.sleep(_wait_s(exc, attempt, cfg))
                attempt += 1
                continue
            raise as_unavailable(exc, cfg) or LLMUnavailable(
                f"大模型调用失败或回复无法解析（{type(exc).__name__}: {str(exc)[:80]}）"
            ) from exc


def guarded(model: Runnable | None, cfg: LLMConfig) -> Runnable | None:
    """The model as the answer chain uses it: prompt → AIMessageChunks through :func:`reply_pieces`
    (``.stream()`` gives them as they come, ``.invoke()`` the whole reply)."""
    if model is None:
        return None

    def reply(prompt: Any) -> Iterator[AIMessageChunk]:
        for piece in reply_pieces(model, prompt, cfg):
            yield AIMessageChunk(content=piece)

    return RunnableLambda(reply, name="guarded_llm")


# --- in-process GGUF backend -------------------------------------------------


def _require_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise LLMUnavailable(
            f"REPORTQA_LLM=gguf needs llama-cpp-python, which is not installed; run: {INSTALL_HINT}"
        ) from exc
    return llama_cpp


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise LLMUnavailable(
            f"GGUF model {path} not found; assemble it with `{ASSEMBLE_HINT} --out {path}` "
            f"or point REPORTQA_GGUF_PATH at an existing .gguf"
        )


@lru_cache(maxsize=2)
def _load_llama(model_path: str, n_ctx: int = 4096, n_threads: int = 0) -> Any:
    """Load a GGUF once per process: it is ~1 GB and takes seconds to map."""
    _require_file(Path(model_path))
    llama_cpp = _require_llama_cpp()
    if n_threads <= 0:
        try:
            n_threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            n_threads = os.cpu_count() or 1
    # chat_format=None makes llama_cpp use the chat template stored in the
    # GGUF (tokenizer.chat_template), i.e. the model's own prompt format.
    # n_threads=0 means all cores, not llama_cpp's default of half (1 on our 2-core machines).
    return llama_cpp.Llama(
        model_path=model_path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
        chat_format=None, verbose=False,
    )


class LlamaCppChat(BaseChatModel):
    """A GGUF model run by ``llama_cpp`` behind LangChain's chat-model interface.

    Subclassing ``BaseChatModel`` (rather than a bare ``RunnableLambda``) gives
    the same inputs, outputs, streaming and callbacks as ``ChatOpenAI``, so the
    answer chain cannot tell the two backends apart.
    """

    model_path: str
    temperature: float = 0.1
    max_tokens: int = 512
    n_ctx: int = 4096
    n_threads: int = 0

    # One llama context is not safe to use from two threads (Gradio serves
    # requests concurrently), so calls on the shared model are serialised.
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _llama: Any = PrivateAttr(default=None)

    def model_post_init(self, __context: Any) -> None:
        self._llama = _load_llama(self.model_path, self.n_ctx, self.n_threads)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-gguf"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "temperature": self.temperature, "max_tokens": self.max_tokens}

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, stream: bool) -> Any:
        return self._llama.create_chat_completion(
            messages=convert_to_openai_messages(messages),
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            stop=stop or [],
            stream=stream,
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            out = self._request(messages, stop, stream=False)
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            response_metadata={"model_name": Path(self.model_path).name, "finish_reason": choice.get("finish_reason")},
            usage_metadata={
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            for part in self._request(messages, stop, stream=True):
                choice = part["choices"][0]
                text = choice.get("delta", {}).get("content") or ""
                finish = choice.get("finish_reason")
                if not text and not finish:
                    continue
                chunk = ChatGenerationChunk(
                    message=AIMessageChunk(
                        content=text, response_metadata={"finish_reason": finish} if finish else {}
                    )
                )
                if run_manager and text:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
