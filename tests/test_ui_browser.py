"""The app in a real browser: Debian's chromium driven by Playwright, never a downloaded browser.

One app for the whole module: `reportqa serve` runs in a subprocess on a copy of
the bundled corpus in a temporary folder (index and feedback database there
too), so nothing here touches the repository's corpus/ or index/. The built
index is kept in pytest's cache between runs to save the embedding time; a
stale copy is simply rebuilt (incrementally) by `serve`.

Screenshots of every tab go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from llm_fixtures import free_port, stop_process

pytestmark = pytest.mark.browser

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


def _snapshot(corpus: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(corpus.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    home = tmp_path_factory.mktemp("reportqa_home")
    shutil.copytree(ROOT / "corpus", home / "corpus")
    cache = Path(request.config.cache.mkdir("reportqa_ui_index"))
    if (cache / "index" / "manifest.json").exists():
        shutil.copytree(cache / "index", home / "index")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPORTQA_")}
    env.update(
        REPORTQA_HOME=str(home), REPORTQA_FEEDBACK_DB=str(home / "feedback.sqlite3"),
        GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1", NO_PROXY="127.0.0.1,localhost",
    )
    log = (home / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "reportqa.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
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
    shutil.rmtree(cache / "index", ignore_errors=True)
    shutil.copytree(home / "index", cache / "index")  # before any upload changes it
    yield {"url": url, "home": home, "corpus": home / "corpus", "db": home / "feedback.sqlite3", "log": home / "serve.log"}
    stop_process(process, grace_s=15)
    log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server["url"])
    page.wait_for_selector("#rq-question textarea")
    yield page
    context.close()


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _download_csv(page, box: str, path: Path) -> list[dict]:
    """Click the download link in a gr.File box and read the CSV it gives (UTF-8 with BOM)."""
    link = page.locator(f"{box} a[download]").first
    link.wait_for()
    with page.expect_download() as download_info:
        link.click()
    download_info.value.save_as(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_header_says_what_is_loaded(page):
    header = page.locator(".rq-header").inner_text()
    assert "已载入 5 份报告" in header and "段" in header


def test_ask_which_towns_with_citations_and_thumbs(page, server):
    page.fill("#rq-question textarea", "哪个镇提到未来社区")
    page.click("#rq-ask")
    answer = page.locator("#rq-chat .rq-answer").last
    answer.wait_for(timeout=ANSWER_TIMEOUT)
    text = answer.inner_text()
    assert "余新镇" in text and "凤桥镇" in text
    assert "[1]" in text and "[2]" in text

    passages = page.locator("#rq-chat .rq-passage")
    assert passages.count() >= 2
    first = passages.first
    assert "未来社区" in first.locator("mark").first.inner_text()
    head = first.locator(".rq-passage-head").inner_text()
    assert "[1]" in head and " · " in head
    context = first.locator(".rq-context")
    assert not context.is_visible()
    first.locator("summary").click()
    context.wait_for(state="visible")
    passage_text = first.locator(".rq-passage-text").inner_text().strip()
    assert passage_text[:30] in context.inner_text()  # the cited passage sits inside its surrounding text
    assert len(context.inner_text()) > len(passage_text)
    _shot(page, "1_问答")

    page.locator("#rq-chat button[aria-label='赞'], #rq-chat button[aria-label='Like']").last.click()
    deadline = time.monotonic() + 10
    rows = []
    while time.monotonic() < deadline and not rows:
        try:
            with sqlite3.connect(f"file:{server['db']}?mode=ro", uri=True) as connection:
                rows = connection.execute("SELECT liked, question, answer, passages FROM thumbs").fetchall()
        except sqlite3.OperationalError:  # not created yet
            pass
        time.sleep(0.3)
    assert rows and rows[-1][0] == 1 and rows[-1][1] == "哪个镇提到未来社区"
    assert "余新镇" in rows[-1][2] and "未来社区" in rows[-1][3]


def test_refusal_shows_related_passages(page):
    page.fill("#rq-question textarea", "乌镇2022年接待游客多少人次？")
    page.click("#rq-ask")
    answer = page.locator("#rq-chat .rq-answer").last
    answer.wait_for(timeout=ANSWER_TIMEOUT)
    assert "资料中未提及" in answer.inner_text()
    assert "可能相关" in page.locator("#rq-chat").inner_text()


def test_search_groups_precedents_by_town_and_exports_csv(page, tmp_path):
    _tab(page, "检索 / 先例")
    page.fill("#rq-search-query textarea", "未来社区")
    page.click("#rq-search")
    results = page.locator("#rq-search-results .rq-town-group")
    results.first.wait_for(timeout=ANSWER_TIMEOUT)
    towns = [h.inner_text() for h in page.locator("#rq-search-results .rq-town-group h3").all()]
    assert any("余新镇" in t for t in towns) and any("凤桥镇" in t for t in towns)
    assert len(towns) == len(set(t.split()[0] for t in towns))  # one group per town
    assert page.locator("#rq-search-results mark").count() > 0
    rows = _download_csv(page, "#rq-search-csv", tmp_path / "result.csv")
    assert rows and {"镇 / 街道", "章节", "段落", "文件"} <= set(rows[0])
    assert {"余新镇", "凤桥镇"} <= {r["镇 / 街道"] for r in rows}
    _shot(page, "2_检索")


def test_documents_tab_reads_a_report_with_outline(page):
    _tab(page, "文档")
    table = page.locator("#rq-doc-table")
    table.wait_for()
    assert "凤桥镇" in table.inner_text() and "天目山镇" in table.inner_text()
    page.locator(".rq-doc-text").wait_for()
    assert "蒋婷婷" in page.locator(".rq-doc-text").inner_text()  # the first report is open by default
    table.get_by_text("001_2bd030c6d8315c75.txt").first.click()
    page.wait_for_function("document.querySelector('.rq-outline').innerText.includes('2022年工作回顾')")
    assert "凤桥镇" in page.locator(".rq-doc-text").inner_text()
    outline = page.locator(".rq-outline a")
    assert outline.count() >= 3
    assert "2022年工作回顾" in page.locator(".rq-outline").inner_text()
    _shot(page, "3_文档")


def test_upload_rejects_an_empty_file_and_changes_nothing(page, server, tmp_path):
    before = _snapshot(server["corpus"])
    empty = tmp_path / "空白报告.txt"
    empty.write_bytes(b"")
    _tab(page, "文档")
    page.get_by_text("导入新报告").first.click()
    page.locator("#rq-upload-file input[type=file]").set_input_files(str(empty))
    status = page.locator("#rq-upload-status")
    page.wait_for_function("document.querySelector('#rq-upload-status').innerText.includes('文件为空')", timeout=20_000)
    page.click("#rq-upload")
    page.wait_for_function(
        "document.querySelector('#rq-upload-status').innerText.includes('没有任何改动')", timeout=20_000
    )
    assert "文件为空" in status.inner_text()
    _shot(page, "4_文档_导入失败")
    assert _snapshot(server["corpus"]) == before
    assert "已载入 5 份报告" in page.locator(".rq-header").inner_text()


def test_rating_is_saved_to_sqlite_and_exported(page, server, tmp_path):
    _tab(page, "评测")
    pick = page.locator("#rq-gold-pick input")
    pick.click()
    pick.fill("q001")
    page.get_by_role("option").filter(has_text="q001").first.click()
    page.wait_for_function("document.querySelector('#rq-eval-question textarea').value.includes('余新镇党委书记')")
    page.click("#rq-eval-ask")
    page.locator("#rq-eval-answer .rq-answer").wait_for(timeout=ANSWER_TIMEOUT)
    for element_id, score in (("correctness", "5"), ("faithfulness", "4"), ("citation", "3")):
        page.locator(f"#rq-score-{element_id}").get_by_text(score, exact=True).click()
    page.fill("#rq-comment textarea", "浏览器测试")
    page.fill("#rq-rater textarea", "测试员甲")
    page.click("#rq-save")
    page.wait_for_function("document.querySelector('#rq-save-status').innerText.includes('已保存')", timeout=20_000)
    with sqlite3.connect(server["db"]) as connection:
        row = connection.execute(
            "SELECT rater, question_id, question_type, question, correctness, faithfulness, citation, comment, passages FROM ratings"
            " WHERE rater = '测试员甲'"
        ).fetchone()
    assert row[:8] == ("测试员甲", "q001", "fact", "余新镇党委书记是谁？", 5, 4, 3, "浏览器测试")
    assert "source" in row[8]
    page.wait_for_function("document.body.innerText.includes('共 1 条评分')", timeout=10_000)
    page.get_by_role("button", name="导出全部评分").click()
    exported = _download_csv(page, "#rq-ratings-csv", tmp_path / "ratings.csv")
    assert [(r["rater"], r["question_id"], r["correctness"]) for r in exported] == [("测试员甲", "q001", "5")]
    _shot(page, "5_评测")


def test_api_endpoints_via_gradio_client(server):
    from gradio_client import Client

    client = Client(server["url"], verbose=False)
    answer = client.predict(question="哪个镇提到未来社区", api_name="/ask")
    assert isinstance(answer, dict) and not answer["refused"]
    assert "余新镇" in answer["answer"] and "凤桥镇" in answer["answer"]
    assert answer["citations"] and {"n", "source", "town", "section", "text", "score"} <= set(answer["citations"][0])
    assert len(answer["retrieved"]) >= 2

    result = client.predict(query="污水零直排", town="凤桥镇,天目山镇", k=5, api_name="/search")
    assert 0 < len(result["passages"]) <= 5
    assert {p["town"] for p in result["passages"]} <= {"凤桥镇", "天目山镇"}
    assert set(result["by_town"]) <= {"凤桥镇", "天目山镇"}


def test_upload_a_new_report_is_indexed_and_searchable(page, server, tmp_path):
    """Last: it adds a sixth report to the temporary corpus."""
    report = tmp_path / "测试镇2024年工作计划.txt"
    report.write_text(
        "测试镇2024年工作计划\n一、总体目标\n2024年，测试镇将全力推进萤火虫生态公园建设，计划投入资金1200万元。\n"
        "二、重点工作\n（一）建设萤火虫生态公园，打造乡村旅游新名片。\n",
        encoding="utf-8",
    )
    _tab(page, "文档")
    page.get_by_text("导入新报告").first.click()
    page.locator("#rq-upload-file input[type=file]").set_input_files(str(report))
    page.wait_for_function("document.querySelector('#rq-upload-status').innerText.includes('文件可以读取')", timeout=20_000)
    page.locator("#rq-upload-box").get_by_label("镇 / 街道").fill("测试镇")
    page.locator("#rq-upload-box").get_by_label("年份").fill("2024")
    page.click("#rq-upload")
    page.wait_for_function("document.querySelector('#rq-upload-status').innerText.includes('已导入')", timeout=120_000)
    assert (server["corpus"] / report.name).read_bytes() == report.read_bytes()
    with (server["corpus"] / "metadata.csv").open(encoding="utf-8-sig", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["file"] == report.name)
    assert row["town"] == "测试镇" and row["year"] == "2024"
    assert "已载入 6 份报告" in page.locator(".rq-header").inner_text()
    assert report.name in page.locator("#rq-doc-table").inner_text()
    _shot(page, "6_文档_导入成功")

    # the same bytes again are a duplicate, whatever the name
    again = tmp_path / "另一个名字.txt"
    again.write_bytes(report.read_bytes())
    page.locator("#rq-upload-file input[type=file]").set_input_files(str(again))
    page.wait_for_function("document.querySelector('#rq-upload-status').innerText.includes('文件可以读取')", timeout=20_000)
    page.click("#rq-upload")
    page.wait_for_function("document.querySelector('#rq-upload-status').innerText.includes('已经在库中')", timeout=20_000)
    assert not (server["corpus"] / again.name).exists()
