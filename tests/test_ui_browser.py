"""The app in a real browser (see browser_app.py): every tab, as a clerk uses it.

Two apps, each `reportqa serve` in a subprocess on its own copy of the bundled
corpus. The main one is bound to 0.0.0.0, as when shared on a LAN, so writing
needs a login: a user is made with `reportqa user add` first. The second
answers with an LLM, the scripted OpenAI server in this process, slowed down
so the page can be seen while the reply streams.

Screenshots of every tab go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser_app import ANSWER_TIMEOUT, app_env, ask, browser, make_home, open_page, serve, shot  # noqa: F401 (browser: a fixture)
from llm_fixtures import stop_process
from openai_server import ScriptedOpenAIServer

pytestmark = pytest.mark.browser

CHANGE_TIMEOUT = 180_000  # ms: a library change re-embeds one report and reloads
USER, PASSWORD = "wang", "browser-test-pass"


def _snapshot(corpus: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(corpus.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    home = make_home(tmp_path_factory, request)
    env = app_env(home)
    subprocess.run([sys.executable, "-m", "reportqa.cli", "user", "add", USER, "--password-stdin"],
                   input=PASSWORD + "\n", text=True, cwd=home, env=env, check=True, capture_output=True)
    process, url = serve(home, env, "--host", "0.0.0.0")
    cache = Path(request.config.cache.mkdir("reportqa_ui_index"))
    shutil.rmtree(cache / "index", ignore_errors=True)
    shutil.copytree(home / "index", cache / "index")  # before any upload changes it
    yield {"url": url, "home": home, "corpus": home / "corpus", "db": home / "feedback.sqlite3", "log": home / "serve.log",
           "history": home / "history.sqlite3"}
    stop_process(process, grace_s=15)


@pytest.fixture(scope="module")
def llm_app(tmp_path_factory, request):
    """A second app, answering with an LLM: the scripted OpenAI server (a real HTTP server in this process)."""
    with ScriptedOpenAIServer() as llm:
        home = make_home(tmp_path_factory, request)
        env = app_env(home, REPORTQA_LLM="openai", REPORTQA_LLM_BASE_URL=llm.base_url, REPORTQA_LLM_MODEL=llm.model,
                   REPORTQA_LLM_TIMEOUT="20")
        process, url = serve(home, env)
        yield {"url": url, "llm": llm}
        stop_process(process, grace_s=15)


@pytest.fixture
def page(browser, server):
    context, page = open_page(browser, server)
    yield page
    context.close()


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _download(page, link, path: Path) -> Path:
    with page.expect_download() as download_info:
        link.click()
    download_info.value.save_as(path)
    return path


def _download_csv(page, box: str, path: Path) -> list[dict]:
    """Click the download link in a gr.File box and read the CSV it gives (UTF-8 with BOM)."""
    link = page.locator(f"{box} a[download]").first
    link.wait_for()
    _download(page, link, path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _in_view(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    viewport = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"] and box["x"] + box["width"] <= viewport["width"]


def _status(page, element_id: str, text: str, timeout: int = CHANGE_TIMEOUT) -> None:
    page.wait_for_function(f"document.querySelector('#{element_id}').innerText.includes({text!r})", timeout=timeout)


def _library(page) -> None:
    """The 文档 tab with its library accordion open."""
    _tab(page, "文档")
    if not page.locator("#rq-upload").is_visible():
        page.locator("#rq-library").get_by_text("管理报告库").first.click()
    page.locator("#rq-upload").wait_for()


def _login(page) -> None:
    _library(page)
    page.fill("#rq-login-user textarea, #rq-login-user input", USER)
    page.fill("#rq-login-password input, #rq-login-password textarea", PASSWORD)
    page.click("#rq-login")
    _status(page, "rq-login-status", "已登录", 20_000)


def _pick_document(page, text: str) -> None:
    pick = page.locator("#rq-doc-pick input")
    pick.click()
    pick.fill(text)
    page.get_by_role("option").filter(has_text=text).first.click()


@pytest.mark.parametrize("width, height", [(1280, 720), (1366, 768)])
def test_first_screen_shows_title_tabs_input_and_examples(browser, server, width, height):
    context, page = open_page(browser, server, width, height)
    try:
        page.wait_for_timeout(1000)
        assert page.evaluate("window.scrollY") == 0
        for selector in (".rq-header", "button[role=tab]", "#rq-question textarea", "#rq-ask", "#rq-examples button"):
            assert _in_view(page, selector), selector
        assert "已载入 5 份报告" in page.locator(".rq-header").inner_text()
        shot(page, f"0_首屏_{width}x{height}", full_page=False)
    finally:
        context.close()


def test_ask_which_towns_with_linked_citations_and_thumbs(page, server):
    ask(page, "哪个镇提到未来社区")
    text = page.locator("#rq-chat .rq-answer").last.inner_text()
    assert "余新镇" in text and "凤桥镇" in text and "[1]" in text and "[2]" in text
    first = page.locator("#rq-chat .rq-passage").first
    head = first.locator(".rq-passage-head").inner_text()
    assert "[1]" in head and "余新镇 · 2022年 · 访谈" in head and ".txt" not in head
    assert "未来社区" in first.locator("mark").first.inner_text()
    context = first.locator(".rq-context")
    assert not context.is_visible()
    first.locator("summary").click()
    context.wait_for(state="visible")
    assert first.locator(".rq-passage-text").inner_text().strip()[:30] in context.inner_text()

    link = page.locator("#rq-chat .rq-answer a.rq-cite").filter(has_text="[2]").last
    card_id = link.get_attribute("href")
    link.click()
    page.locator(f"#rq-chat .rq-passage.rq-flash{card_id}").wait_for(timeout=2000)
    assert "[2]" in page.locator(f"{card_id} .rq-passage-head").inner_text()
    assert "未来社区" in page.locator(f"{card_id} mark.rq-quote").inner_text()  # the quoted sentence, marked in its passage
    assert _in_view(page, f"{card_id} mark.rq-quote")
    shot(page, "1_问答_引用")
    assert page.locator("#rq-chat button[aria-label='复制']").count() and not page.locator("#rq-chat [aria-label='Copy message']").count()

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


def test_follow_up_history_across_reload_export_and_clear(page, tmp_path):
    from docx import Document

    ask(page, "凤桥镇2022年规上工业产值是多少")
    assert "91.7亿元" in page.locator("#rq-chat .rq-answer").last.inner_text()
    ask(page, "那余新镇呢？")
    understood = page.locator("#rq-chat .rq-understood").all_inner_texts()
    assert "追问，已补全为「余新镇2022年规上工业产值是多少？」" in understood
    assert any("余新镇" in u and "2022年" in u and "规上工业产值" in u for u in understood)
    last_sources = page.locator("#rq-chat .rq-passage-head").all_inner_texts()[-1]
    assert "余新镇" in last_sources and "凤桥镇" not in last_sources
    shot(page, "2_问答_追问")

    word = _download(page, page.locator("#rq-chat a[href*='export/turn/'][href$='.docx']").last, tmp_path / "qa.docx")
    text = "\n".join(p.text for p in Document(str(word)).paragraphs)
    assert "问：那余新镇呢？" in text and "余新镇2022年规上工业产值是多少？" in text and "余新镇 · 2022年 · 访谈" in text
    markdown = _download(page, page.locator("#rq-chat a[href*='export/conversation/'][href$='.md']").last, tmp_path / "all.md").read_text(encoding="utf-8")
    assert "## 问：凤桥镇2022年规上工业产值是多少" in markdown and "## 问：那余新镇呢？" in markdown and "91.7亿元" in markdown

    page.reload()
    page.wait_for_function("document.querySelectorAll('#rq-chat .rq-answer').length == 2", timeout=20_000)
    assert "凤桥镇2022年规上工业产值是多少" in page.locator("#rq-history").inner_text()
    ask(page, "去年呢？")  # the follow-up chain survives the reload too
    assert "余新镇2021年规上工业产值是多少？" in page.locator("#rq-chat .rq-understood").all_inner_texts()[-2]

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#rq-clear")
    page.wait_for_timeout(1000)
    assert page.locator("#rq-chat .rq-answer").count() == 3  # 取消 keeps the conversation
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#rq-clear")
    page.wait_for_function("document.querySelectorAll('#rq-chat .rq-answer').length == 0", timeout=10_000)
    page.locator("#rq-history label").filter(has_text="凤桥镇2022年规上工业产值").first.click()
    page.wait_for_function("document.querySelectorAll('#rq-chat .rq-answer').length == 3", timeout=10_000)


def test_open_in_document_marks_the_cited_span(page):
    ask(page, "哪个镇提到未来社区")
    passage = page.locator("#rq-chat .rq-passage").nth(1)
    quoted = passage.locator("mark.rq-quote").inner_text()
    passage.locator("a.rq-open").click()
    target = page.locator("#rq-doc-view #rq-target")
    target.wait_for(timeout=20_000)
    assert page.get_by_role("tab", name="文档").get_attribute("aria-selected") == "true"
    assert quoted in target.locator("mark.rq-quote").inner_text()
    assert "凤桥镇" in page.locator("#rq-doc-view h3").inner_text()
    page.wait_for_timeout(500)
    assert _in_view(page, "#rq-target mark.rq-quote")
    shot(page, "3_文档_定位", full_page=False)


def test_refusal_shows_related_passages(page):
    ask(page, "乌镇2022年接待游客多少人次？")
    assert "资料中未提及" in page.locator("#rq-chat .rq-answer").last.inner_text()
    assert "可能相关" in page.locator("#rq-chat").inner_text()


def test_search_sets_weak_matches_apart_and_exports_csv(page, tmp_path):
    _tab(page, "检索 / 先例")
    page.fill("#rq-search-query textarea", "污水零直排")
    page.click("#rq-search")
    page.locator("#rq-search-results .rq-town-group").first.wait_for(timeout=ANSWER_TIMEOUT)
    summary = page.locator("#rq-search-results .rq-empty").first.inner_text()
    assert "来自 2 个镇街" in summary
    towns = [h.inner_text().split()[0] for h in page.locator("#rq-search-results .rq-town-group h3").all()]
    assert sorted(towns) == ["凤桥镇", "天目山镇"]
    assert page.locator("#rq-search-results .rq-weak-divider").count() == 1
    assert "相关度" in page.locator("#rq-search-results .rq-passage-head").first.inner_text()
    rows = _download_csv(page, "#rq-search-csv", tmp_path / "result.csv")
    assert {"匹配", "相关度", "镇 / 街道", "章节", "段落", "标题"} <= set(rows[0]) and "文件" not in rows[0]
    assert {r["镇 / 街道"] for r in rows if r["匹配"] == "相关"} == {"凤桥镇", "天目山镇"}
    shot(page, "4_检索_弱匹配")


def test_documents_tab_leads_with_title_and_reads_a_report(page):
    _tab(page, "文档")
    table = page.locator("#rq-doc-table")
    table.wait_for()
    headers = [h.inner_text().strip() for h in table.locator("th").all()][:4]
    assert headers == ["标题", "镇 / 街道", "年份", "类型"]
    assert ".txt" not in table.inner_text()
    table.get_by_text("2023年嘉兴市南湖区凤桥镇政府工作报告").first.click()
    page.wait_for_function("document.querySelector('.rq-outline').innerText.includes('2022年工作回顾')")
    assert page.locator(".rq-outline a").count() >= 3
    shot(page, "5_文档")


def test_rating_is_saved_and_export_needs_a_login(page, server, tmp_path):
    _tab(page, "评测")
    pick = page.locator("#rq-gold-pick input")
    pick.click()
    pick.fill("q001")
    page.get_by_role("option").filter(has_text="q001").first.click()
    page.wait_for_function("document.querySelector('#rq-eval-question textarea').value.length > 0")
    question = page.locator("#rq-eval-question textarea").input_value()
    page.click("#rq-eval-ask")
    page.locator("#rq-eval-answer .rq-answer").wait_for(timeout=ANSWER_TIMEOUT)
    for element_id, score in (("correctness", "5"), ("faithfulness", "4"), ("citation", "3")):
        page.locator(f"#rq-score-{element_id}").get_by_text(score, exact=True).click()
    page.fill("#rq-comment textarea", "浏览器测试")
    page.fill("#rq-rater textarea", "测试员甲")
    page.click("#rq-save")
    _status(page, "rq-save-status", "已保存", 20_000)
    with sqlite3.connect(server["db"]) as connection:
        row = connection.execute("SELECT rater, question_id, question, correctness, faithfulness, citation, comment, passages FROM ratings WHERE rater = '测试员甲'").fetchone()
    assert row[:7] == ("测试员甲", "q001", question, 5, 4, 3, "浏览器测试") and "source" in row[7]

    page.get_by_role("button", name="导出全部评分").click()
    page.get_by_text("导出评分需要登录").first.wait_for(timeout=10_000)
    assert not page.locator("#rq-ratings-csv a[download]").count()
    _login(page)
    _tab(page, "评测")
    page.get_by_role("button", name="导出全部评分").click()
    exported = _download_csv(page, "#rq-ratings-csv", tmp_path / "ratings.csv")
    assert [(r["rater"], r["question_id"], r["correctness"]) for r in exported] == [("测试员甲", "q001", "5")]


def test_api_endpoints_via_gradio_client(server):
    from gradio_client import Client

    client = Client(server["url"], verbose=False)
    answer = client.predict(question="哪个镇提到未来社区", api_name="/ask")
    assert not answer["refused"] and "余新镇" in answer["answer"] and "凤桥镇" in answer["answer"]
    assert answer["citations"] and {"n", "source", "town", "section", "text", "score"} <= set(answer["citations"][0])
    assert "未来社区" in answer["understood"]
    result = client.predict(query="污水零直排", town="凤桥镇,天目山镇", k=5, api_name="/search")
    assert 0 < len(result["passages"]) <= 5 and {p["town"] for p in result["passages"]} <= {"凤桥镇", "天目山镇"}
    assert all("weak" in p for p in result["passages"]) and set(result["by_town"]) <= {"凤桥镇", "天目山镇"}


REPORT = "测试镇2024年工作计划\n一、总体目标\n2024年，测试镇将全力推进萤火虫生态公园建设，计划投入资金1200万元。\n二、重点工作\n（一）建设萤火虫生态公园，打造乡村旅游新名片。\n"


def test_upload_needs_a_login_when_shared(page, server, tmp_path):
    """Adds a sixth report to the temporary corpus; the tests after it replace and delete it."""
    report = tmp_path / "测试镇2024年工作计划.txt"
    report.write_text(REPORT, encoding="utf-8")
    before = _snapshot(server["corpus"])
    _library(page)
    page.locator("#rq-upload-file input[type=file]").set_input_files(str(report))
    _status(page, "rq-upload-status", "文件可以读取", 20_000)
    page.locator("#rq-new-town input, #rq-new-town textarea").fill("测试镇")
    page.click("#rq-upload")
    _status(page, "rq-upload-status", "需要登录", 20_000)
    assert _snapshot(server["corpus"]) == before
    shot(page, "6_文档_未登录被拒")

    page.fill("#rq-login-user textarea, #rq-login-user input", USER)
    page.fill("#rq-login-password input, #rq-login-password textarea", "wrong-password")
    page.click("#rq-login")
    _status(page, "rq-login-status", "用户名或密码不对", 20_000)
    _login(page)
    page.click("#rq-upload")
    _status(page, "rq-upload-status", "已导入")
    assert (server["corpus"] / report.name).read_bytes() == report.read_bytes()
    page.wait_for_function("document.querySelector('.rq-header').innerText.includes('已载入 6 份报告')", timeout=20_000)
    assert "测试镇2024年工作计划" in page.locator("#rq-doc-table").inner_text()
    shot(page, "7_文档_登录后导入")


def test_replaced_report_answers_with_its_new_text(page, tmp_path):
    corrected = tmp_path / "测试镇2024年工作计划（更正）.txt"
    corrected.write_text(REPORT.replace("1200万元", "1500万元"), encoding="utf-8")
    _login(page)
    _pick_document(page, "测试镇")
    page.get_by_role("tab", name="管理当前报告").click()
    page.locator("#rq-replace-file input[type=file]").set_input_files(str(corrected))
    page.click("#rq-replace")
    _status(page, "rq-upload-status", "替换")
    _tab(page, "问答")
    ask(page, "测试镇萤火虫生态公园计划投入多少资金？")
    answer = page.locator("#rq-chat .rq-answer").last.inner_text()
    assert "1500万元" in answer and "1200万元" not in answer


def test_deleted_report_vanishes_from_answers_search_and_filters(page, browser, server):
    _login(page)
    _pick_document(page, "测试镇")
    page.get_by_role("tab", name="管理当前报告").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#rq-delete")
    _status(page, "rq-upload-status", "已删除")
    assert not any(p.name.startswith("测试镇") for p in server["corpus"].iterdir())

    context, fresh = open_page(browser, server)
    try:
        assert "已载入 5 份报告" in fresh.locator(".rq-header").inner_text()
        _tab(fresh, "检索 / 先例")
        fresh.locator("#rq-search-town input").click()
        options = fresh.get_by_role("option").all_inner_texts()
        assert "凤桥镇" in options and "测试镇" not in options
        fresh.keyboard.press("Escape")
        fresh.fill("#rq-search-query textarea", "萤火虫生态公园")
        fresh.click("#rq-search")
        fresh.locator("#rq-search-results .rq-empty").first.wait_for(timeout=ANSWER_TIMEOUT)
        assert "测试镇" not in fresh.locator("#rq-search-results").inner_text()
        _tab(fresh, "问答")
        ask(fresh, "测试镇萤火虫生态公园计划投入多少资金？")
        answer = fresh.locator("#rq-chat .rq-answer").last.inner_text()
        assert "1500" not in answer and "资料中未提及" in answer
        shot(fresh, "8_删除后")
    finally:
        context.close()


def test_llm_answer_streams_then_gives_way_to_the_verified_one(browser, llm_app):
    llm = llm_app["llm"]
    llm.reply = "余新镇2021年规上工业总产值为94.2亿元[1]。该镇还将建成月球基地，投资三百亿元。"
    llm.chunk_delay_s = 0.4  # 4 characters a chunk: the whole reply takes about 5 s
    llm.delay_s = 2.0  # the model reading the passages before its first word
    context, page = open_page(browser, llm_app)
    try:
        page.fill("#rq-question textarea", "余新镇2021年规上工业总产值是多少？")
        page.click("#rq-ask")
        page.get_by_text("大模型正在阅读检索到的资料").wait_for(timeout=ANSWER_TIMEOUT)
        draft = page.locator("#rq-chat .rq-draft")
        page.wait_for_function("(document.querySelector('#rq-chat .rq-draft') || {}).innerText?.includes('余新镇')", timeout=ANSWER_TIMEOUT)
        partial = draft.inner_text()
        assert "月球" not in partial and not page.locator("#rq-chat .rq-answer").count(), "seen half-written"
        shot(page, "9_大模型_流式作答中", full_page=False)
        page.wait_for_function(f"document.querySelector('#rq-chat .rq-draft')?.innerText.length > {len(partial)}", timeout=10_000)
        page.locator("#rq-chat .rq-answer").wait_for(timeout=ANSWER_TIMEOUT)
        chat = page.locator("#rq-chat").inner_text()
        assert not draft.count() and "94.2亿元" in page.locator("#rq-chat .rq-answer").inner_text()
        assert "月球" not in chat and "核查删除了 1 句" in chat and "回答方式：大模型" in chat
        assert page.locator("#rq-chat .rq-passage").count() >= 1
        shot(page, "9_大模型_核查后")

        llm.fault = "cut"  # the stream breaks off halfway: the extractive answer, saying why
        ask(page, "余新镇2021年规上工业总产值是多少？")
        last = page.locator("#rq-chat .rq-answer").last.inner_text()
        notes = page.locator("#rq-chat .rq-note").all_inner_texts()
        assert "94.2亿元" in last and not draft.count()
        assert any("已改用摘录式回答" in n and "中途断开" in n for n in notes)
    finally:
        llm.fault, llm.chunk_delay_s, llm.delay_s = "", 0.0, 0.0
        context.close()
