"""问答: a conversation with follow-ups, kept per browser across reloads, each answer exportable with its sources."""

from __future__ import annotations

import html
import uuid

import gradio as gr

from reportqa import feedback, history
from reportqa.conversation import resolve
from reportqa.ui.backend import Backend, form_filters
from reportqa.ui.render import answer_html, answer_record, draft_html
from reportqa.ui.style import CONFIRM_CLEAR_JS

EXAMPLES = [
    "哪个镇提到未来社区",
    "余新镇2021年规上工业总产值是多少？",
    "陶堰街道要打造哪三张金名片？",
    "天目山镇五年来农民人均收入从多少增加到多少？",
]
PRIVATE = {"api_visibility": "private"}


def export_links(turn_id: str) -> str:
    return (
        f"　·　导出本问答 <a href='export/turn/{turn_id}.docx' download>Word</a> / "
        f"<a href='export/turn/{turn_id}.md' download>Markdown</a>"
        f"　·　整段对话 <a href='export/conversation/{turn_id}.docx' download>Word</a> / "
        f"<a href='export/conversation/{turn_id}.md' download>Markdown</a>"
    )


def chat_of(turns: list[history.Turn]) -> tuple[list[dict], list[str], dict]:
    """Chatbot messages, the resolved questions (for follow-ups) and the records by message index."""
    messages, records = [], {}
    for turn in turns:
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": turn.html})
        records[str(len(messages) - 1)] = turn.record
    return messages, [t.resolved for t in turns], records


def history_choices(backend: Backend, client: str) -> list[tuple[str, str]]:
    return [(c.title, c.id) for c in history.conversations(backend.settings.history_db, client)] if client else []


def build(backend: Backend, filters: dict) -> dict:
    """The tab's layout and events; returns the components the app refreshes or wires further."""
    settings = backend.settings
    with gr.Row(equal_height=False):
        with gr.Column(scale=4):
            chatbot = gr.Chatbot(
                show_label=False, height="calc(100vh - 290px)", min_height=300, elem_id="rq-chat",
                placeholder="在下面输入问题，例如「哪个镇提到未来社区」。可以接着追问，如「那凤桥镇呢？」「去年呢？」。"
                "回答里的 [1] [2] 可点击，跳到对应出处。",
                feedback_options=("Like", "Dislike"), buttons=["copy"],
            )
            with gr.Row():
                question = gr.Textbox(
                    placeholder="输入问题，按回车或点「提问」；可以追问",
                    show_label=False, scale=6, container=False, elem_id="rq-question", autofocus=True,
                )
                ask_button = gr.Button("提问", variant="primary", scale=1, min_width=70, elem_id="rq-ask")
                clear_button = gr.Button("清空对话", scale=1, min_width=80, elem_id="rq-clear")
            gr.Examples(EXAMPLES, inputs=question, label="示例问题（点一下填入）", examples_per_page=4, elem_id="rq-examples")
        with gr.Column(scale=1, min_width=220, elem_classes="rq-side"):
            past = gr.Radio([], label="历史对话（点一下打开）", elem_id="rq-history", container=True)
            with gr.Accordion("只在这些报告中找（可不选）", open=False):
                town = gr.Dropdown(backend.choices("town"), value=[], multiselect=True, label="镇 / 街道", info="不选 = 全部")
                year = gr.Dropdown(backend.choices("year"), value=[], multiselect=True, label="年份", info="不选 = 全部")
                doc_type = gr.Dropdown(backend.choices("doc_type"), value=[], multiselect=True, label="文档类型", info="不选 = 全部")
            with gr.Accordion("怎么看回答", open=False):
                gr.Markdown(
                    "- 点 **[1] [2]** 跳到下方对应出处，绿色标出回答引用的那句话；「在文档中打开」到报告原文的这个位置。\n"
                    "- 追问（「那余新镇呢？」「去年呢？」）会沿用上一问的地方、年份和事项，回答上方写明按什么理解。\n"
                    "- 报告里没有的内容，会回答「资料中未提及」。\n"
                    "- 每条回答可导出为 Word 或 Markdown（带出处）；对话自动保存在本浏览器的「历史对话」里。"
                )
    client = gr.BrowserState("", storage_key="reportqa-client")
    conversation = gr.State("")
    resolved = gr.State([])
    records = gr.State({})

    def add_question(message, messages):
        message = (message or "").strip()
        if not message:
            return gr.update(), messages
        return "", messages + [{"role": "user", "content": message}]

    def answer_last(messages, client_id, conversation_id, asked, records, town, year, doc_type):
        """A generator: with an LLM, its reply shows as it streams and is then replaced by the verified answer."""
        if not messages or messages[-1]["role"] != "user":
            yield messages, conversation_id, asked, records, gr.update()
            return
        message = messages[-1]["content"]
        message = message if isinstance(message, str) else "".join(c.get("text", "") for c in message if isinstance(c, dict))
        chosen = form_filters(town=town, year=year, doc_type=doc_type)
        try:
            turn_of = resolve(message, asked, backend.searcher.understand, chosen, backend.condenser())
            for item in backend.stream(turn_of.question, chosen, settings.top_k):
                if isinstance(item, str):
                    yield messages + [{"role": "assistant", "content": draft_html(item)}], conversation_id, asked, records, gr.update()
            answer = item  # the stream ends with the verified Answer
        except Exception as exc:  # never leave the clerk with a spinning box
            reply = f"<div class='rq-note'>出错了：{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</div>"
            yield messages + [{"role": "assistant", "content": reply}], conversation_id, asked, records, gr.update()
            return
        conversation_id = conversation_id or history.new_id()
        turn_id = history.new_id()
        shown = answer_html(backend.index, backend.searcher, answer, f"rq-src-{turn_id[:8]}", turn_of.note(), export_links(turn_id))
        record = {**answer_record(answer, turn_of.question), "filters": chosen}
        history.add_turn(settings.history_db, client_id, conversation_id, history.Turn(message, turn_of.question, shown, record, turn_id))
        messages = messages + [{"role": "assistant", "content": shown}]
        records = {**records, str(len(messages) - 1): record}
        yield messages, conversation_id, asked + [turn_of.question], records, gr.update(choices=history_choices(backend, client_id), value=conversation_id)

    def on_like(records, data: gr.LikeData):
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        record = records.get(str(index))
        if record is None:
            return
        liked = data.liked is True or data.liked == "Like"
        try:
            feedback.save_thumb(
                settings.feedback_db,
                feedback.Thumb(liked, record["question"], record["answer"], record["passages"], record["backend"], record["refused"], record.get("filters", {})),
            )
        except feedback.FeedbackError as error:
            gr.Warning(str(error))
            return
        gr.Info("谢谢，已记录您的好评" if liked else "谢谢，已记录，我们会改进这类回答", title="提示")

    def restore(client_id):
        """On every page load: this browser's id (made on its first visit) and its latest conversation."""
        client_id = client_id or uuid.uuid4().hex
        past_ones = history_choices(backend, client_id)
        latest = past_ones[0][1] if past_ones else ""
        messages, asked, records = chat_of(history.turns(settings.history_db, client_id, latest)) if latest else ([], [], {})
        return client_id, messages, latest, asked, records, gr.update(choices=past_ones, value=latest or None)

    def open_past(client_id, conversation_id):
        messages, asked, records = chat_of(history.turns(settings.history_db, client_id, conversation_id or ""))
        return messages, conversation_id, asked, records

    def start_new(confirmed, client_id):
        if confirmed != "yes":
            return [gr.update()] * 5
        return [], "", [], {}, gr.update(choices=history_choices(backend, client_id), value=None)

    chat_state = [chatbot, conversation, resolved, records]
    for trigger in (question.submit, ask_button.click):
        trigger(add_question, [question, chatbot], [question, chatbot], queue=False, **PRIVATE).then(
            answer_last, [chatbot, client, conversation, resolved, records, town, year, doc_type], [*chat_state, past], **PRIVATE
        )
    confirmed = gr.Textbox(elem_classes="rq-hidden", container=False, show_label=False)  # what the confirm dialog answered
    clear_button.click(start_new, [confirmed, client], [*chat_state, past], js=CONFIRM_CLEAR_JS, **PRIVATE)
    past.input(open_past, [client, past], chat_state, **PRIVATE)
    chatbot.like(on_like, [records], None, **PRIVATE)
    filters.update(town=town, year=year, doc_type=doc_type)
    return {"restore": (restore, [client], [client, *chat_state, past])}
