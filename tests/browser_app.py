"""What the browser tests share: Debian's chromium, a `reportqa serve` subprocess on a private home, page helpers.

Never a downloaded browser: Playwright drives /usr/bin/chromium. Each app runs
on a copy of the bundled corpus in a temporary REPORTQA_HOME, so nothing
touches the repository's corpus/ or index/; the built index is kept in
pytest's cache between runs (a stale copy is rebuilt incrementally by `serve`).
Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from llm_fixtures import free_port

from reportqa.ingest.chunk import CHUNKER_VERSION

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
START_TIMEOUT = 600  # first run builds the index (embedding on CPU)
ANSWER_TIMEOUT = 60_000  # ms

if not CHROMIUM.exists():
    pytest.skip("Debian chromium is not installed (apt-get install chromium; see scripts/setup.sh)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def make_home(tmp_path_factory, request) -> Path:
    """A temporary REPORTQA_HOME with a copy of the bundled corpus and, when cached by this chunker, its index."""
    home = tmp_path_factory.mktemp("reportqa_home")
    shutil.copytree(ROOT / "corpus", home / "corpus")
    manifest = Path(request.config.cache.mkdir("reportqa_ui_index")) / "index" / "manifest.json"
    if manifest.exists() and json.loads(manifest.read_text(encoding="utf-8")).get("chunker") == CHUNKER_VERSION:
        shutil.copytree(manifest.parent, home / "index")
    return home


def app_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
    env.update(
        REPORTQA_HOME=str(home), REPORTQA_FEEDBACK_DB=str(home / "feedback.sqlite3"),
        GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1", NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""), **extra,
    )
    return env


def serve(home: Path, env: dict[str, str], *args: str) -> tuple[subprocess.Popen, str]:
    """`reportqa serve` in *home*, waited for until it answers; its log is home/serve.log."""
    port = free_port()
    with (home / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "reportqa.cli", "serve", "--port", str(port), *args],
            cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    while True:
        if process.poll() is not None:
            pytest.fail(f"reportqa serve exited with {process.returncode}:\n{(home / 'serve.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() - started > START_TIMEOUT:
            process.kill()
            pytest.fail(f"reportqa serve did not start in {START_TIMEOUT} s:\n{(home / 'serve.log').read_text()[-3000:]}")
        time.sleep(1)
    print(f"\napp up after {time.monotonic() - started:.1f} s")
    return process, url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def open_page(browser, server, width=1400, height=1000):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server["url"])
    page.wait_for_selector("#rq-question textarea")
    return context, page


def shot(page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def ask(page, question: str):
    """Ask in the chat and wait for the answer; returns the last answer's message element."""
    before = page.locator("#rq-chat .rq-answer").count()
    page.fill("#rq-question textarea", question)
    page.click("#rq-ask")
    page.wait_for_function(f"document.querySelectorAll('#rq-chat .rq-answer').length > {before}", timeout=ANSWER_TIMEOUT)
    return page.locator("#rq-chat .message-row, #rq-chat [data-testid='bot']").last
