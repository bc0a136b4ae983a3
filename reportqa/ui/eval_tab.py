"""评测: evaluators score answers (gold questions or their own) on three criteria; scores go to SQLite and export as CSV."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

import gradio as gr

from reportqa import feedback
from reportqa.config import Settings
from reportqa.ui.backend import Backend
from reportqa.ui.render import answer_html, answer_record

SCORE_CHOICES = [1, 2, 3, 4, 5]
PRIVATE = {"api_visibility": "private"}


def gold_path(settings: Settings) -> Path | None:
    for candidate in (settings.home / "eval" / "gold.jsonl", Path(__file__).resolve().parents[2] / "eval" / "gold.jsonl"):
        if candidate.exists():
            return candidate
    return None


def load_gold(settings: Settings) -> list[dict]:
    path = gold_path(settings)
    if path is None:
        return []
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            continue
        if item and item.get("question") and item.get("corpus", "seeds") == "seeds":
            items.append(item)  # the questions on the bundled reports; the others need ../shared/corpora
    return items


TYPE_ZH = {
    "fact": "事实", "number": "数字", "unanswerable": "无答案", "which": "哪个镇/哪几份", "paraphrase": "换说法",
    "traditional": "繁体", "comparison": "比较", "summary": "概括",
}


def gold_info_html(item: dict | None) -> str:
    if not item:
        return "<div class='rq-gold rq-empty'>自由提问（不在金标准问题集中），请按回答本身评分。</div>"
    facts = "、".join(item.get("key_facts") or []) or "—"
    answerable = "应能回答" if item.get("answerable", True) else "资料中没有答案（正确做法是说明「资料中未提及」）"
    return (
        f"<div class='rq-gold'><b>金标准 {html.escape(str(item.get('id', '')))}</b> · 类型：{html.escape(TYPE_ZH.get(item.get('type', ''), item.get('type', '')))}"
        f" · {answerable}<br>参考要点：{html.escape(facts)}<br>出处文件：{html.escape('、'.join(item.get('sources') or []) or '—')}</div>"
    )


def summary_tables(db: Path) -> tuple[list[list], list[list], list[list], str]:
    s, problem = feedback.summary_or_problem(db)  # a broken database never blocks the page

    def groups(items):
        return [[g.group, g.n, *(g.means[c] for c in feedback.CRITERIA)] for g in items]

    agreement = [
        [feedback.CRITERIA_ZH[a.criterion], a.pairs,
         "—" if a.mean_abs_diff is None else f"{a.mean_abs_diff:.2f}",
         "—" if a.exact is None else f"{a.exact:.0%}",
         "—" if a.within_one is None else f"{a.within_one:.0%}"]
        for a in s.agreement
    ]
    line = f"**评分库不可用：{problem}**" if problem else (
        f"共 {s.n_ratings} 条评分，{s.n_raters} 位评分人，{s.n_answers} 个不同回答；"
        f"问答页 赞 {s.thumbs_up} / 踩 {s.thumbs_down}。一致性只统计两人及以上评过的同一回答（每人取最后一次评分）。"
    )
    return groups(s.per_rater), groups(s.per_type), agreement, line



def build(backend: Backend, app: gr.Blocks, role: gr.State, can_export) -> None:
    """`can_export(role, request)` says whether this session may export the ratings (a login when shared)."""
    settings = backend.settings
    gold = load_gold(settings)
    gold_by_id = {str(item.get("id")): item for item in gold}
    private = PRIVATE
    gr.Markdown("给回答打分：选一道金标准问题（或自己输入问题），生成回答后按三项标准各打 1–5 分，填上姓名保存。分数和回答、出处一起存档，可导出。")
    with gr.Row():
        gold_pick = gr.Dropdown(
            [(f"{item.get('id')} · {TYPE_ZH.get(item.get('type', ''), item.get('type', ''))} · {item['question']}", str(item.get("id"))) for item in gold],
            value=None, label=f"金标准问题（{len(gold)} 道）" if gold else "金标准问题（未找到 eval/gold.jsonl）", scale=3, elem_id="rq-gold-pick",
        )
        eval_question = gr.Textbox(label="问题", placeholder="或直接输入问题", scale=3, elem_id="rq-eval-question")
        eval_button = gr.Button("生成回答", variant="primary", scale=1, min_width=100, elem_id="rq-eval-ask")
    gold_info = gr.HTML(gold_info_html(None))
    eval_answer = gr.HTML("<div class='rq-empty'>回答会显示在这里。</div>", elem_id="rq-eval-answer")
    eval_record = gr.State(None)
    with gr.Group():
        with gr.Row():
            score_inputs = {
                "correctness": gr.Radio(SCORE_CHOICES, label="正确性", info="回答对不对、全不全（5 = 完全正确）", elem_id="rq-score-correctness"),
                "faithfulness": gr.Radio(SCORE_CHOICES, label="忠实度", info="每句话都能在所引原文中找到（5 = 无编造）", elem_id="rq-score-faithfulness"),
                "citation": gr.Radio(SCORE_CHOICES, label="引用质量", info="[n] 是否指向真正支撑该句的段落", elem_id="rq-score-citation"),
            }
        with gr.Row():
            comment = gr.Textbox(label="备注（可选）", placeholder="例如：第二句没有出处", scale=4, elem_id="rq-comment")
            rater = gr.Textbox(label="评分人", placeholder="姓名（必填）", scale=1, min_width=140, elem_id="rq-rater")
    save_button = gr.Button("保存评分", variant="primary", elem_id="rq-save")
    save_status = gr.HTML("", elem_id="rq-save-status")

    with gr.Accordion("评分汇总与导出", open=True):
        summary_line = gr.Markdown("")
        with gr.Row():
            per_rater = gr.Dataframe(headers=["评分人", "条数", "正确性", "忠实度", "引用质量"], interactive=False, label="按评分人（平均分）")
            per_type = gr.Dataframe(headers=["问题类型", "条数", "正确性", "忠实度", "引用质量"], interactive=False, label="按问题类型（平均分）")
        agreement_table = gr.Dataframe(
            headers=["标准", "配对数", "平均绝对差", "完全一致", "相差≤1 分"], interactive=False, label="评分人之间的一致性（同一回答）",
        )
        with gr.Row():
            export_button = gr.Button("导出全部评分（CSV，可用 Excel 打开）", scale=1)
            export_file = gr.File(label="评分表", interactive=False, scale=2, height=80, visible=False, elem_id="rq-ratings-csv")

    def refresh_summary():
        raters, types, agree, line = summary_tables(settings.feedback_db)
        for row in types:
            row[0] = TYPE_ZH.get(row[0], row[0])
        return raters, types, agree, line

    def pick_gold(qid):
        item = gold_by_id.get(str(qid)) if qid else None
        return (item["question"] if item else gr.update()), gold_info_html(item)

    def eval_ask(qid, text):
        text = (text or "").strip()
        item = gold_by_id.get(str(qid)) if qid else None
        if item and text != item["question"]:
            item = None  # the rater edited the question: a free question now
        if not text:
            return "<div class='rq-empty'>请先选择或输入问题。</div>", None, gold_info_html(None)
        answer = backend.ask(text, None, settings.top_k)
        record = answer_record(answer, text)
        record.update(question_id=str(item.get("id")) if item else "", question_type=item.get("type", "") if item else "")
        return answer_html(backend.index, backend.searcher, answer, "rq-eval-src"), record, gold_info_html(item)

    def save_rating(record, correctness, faithfulness, citation, comment_text, rater_name):
        keep = [gr.update()] * 4
        if not record:
            return ["<span class='rq-error'>请先点「生成回答」，再打分。</span>", *keep, gr.update(), *refresh_summary()]
        rating = feedback.Rating(
            rater=rater_name or "", question=record["question"], answer=record["answer"],
            correctness=correctness, faithfulness=faithfulness, citation=citation, comment=comment_text or "",
            question_id=record.get("question_id", ""), question_type=record.get("question_type", ""),
            passages=record["passages"], backend=record["backend"], refused=record["refused"],
        )
        try:
            row_id = feedback.save_rating(settings.feedback_db, rating)
        except feedback.FeedbackError as error:
            return [f"<span class='rq-error'>{html.escape(str(error))}</span>", *keep, gr.update(), *refresh_summary()]
        message = f"<span class='rq-ok'>已保存（第 {row_id} 条）</span>：{html.escape(rating.rater)} 给「{html.escape(rating.question[:40])}」的评分。"
        return [message, None, None, None, "", gr.update(), *refresh_summary()]

    def export_ratings(session_role, request: gr.Request):
        if not can_export(session_role, request):
            gr.Warning("本应用在局域网共享，导出评分需要登录（编辑权限）：请先在「文档」页「管理报告库」中登录。", title="需要登录")
            return gr.update(value=None, visible=False)
        path = backend.export_dir / f"评分_{time.strftime('%Y%m%d_%H%M%S')}.csv"
        return gr.update(value=str(feedback.export_csv(settings.feedback_db, path)), visible=True)

    summary_outputs = [per_rater, per_type, agreement_table, summary_line]
    gold_pick.change(pick_gold, gold_pick, [eval_question, gold_info], **private)
    for trigger in (eval_button.click, eval_question.submit):
        trigger(eval_ask, [gold_pick, eval_question], [eval_answer, eval_record, gold_info], **private)
    save_button.click(
        save_rating, [eval_record, *score_inputs.values(), comment, rater],
        [save_status, *score_inputs.values(), comment, rater, *summary_outputs], **private,
    )
    export_button.click(export_ratings, [role], export_file, **private)
    app.load(refresh_summary, None, summary_outputs, **private)

