"""Conversations in SQLite per browser, and their export as Markdown and Word."""

import io

from reportqa import export, history


def _turn(question, resolved=None):
    record = {
        "answer": "全年实现规上工业总产值91.7亿元。[1]", "refused": False, "notes": [],
        "passages": [{"n": 1, "label": "凤桥镇 · 2023年 · 政府工作报告", "section": "一、2022年工作回顾", "text": "全年实现规上工业总产值91.7亿元，同比增长。"}],
    }
    return history.Turn(question, resolved or question, "<div>答</div>", record)


def test_turns_are_kept_per_browser_and_conversation(tmp_path):
    db = tmp_path / "history.sqlite3"
    first, second = _turn("凤桥镇2022年规上工业产值是多少"), _turn("那余新镇呢？", "余新镇2022年规上工业产值是多少？")
    history.add_turn(db, "browser-a", "c1", first)
    history.add_turn(db, "browser-a", "c1", second)
    history.add_turn(db, "browser-b", "c2", _turn("别人的问题"))
    [conversation] = history.conversations(db, "browser-a")
    assert conversation.id == "c1" and conversation.title == "凤桥镇2022年规上工业产值是多少"
    turns = history.turns(db, "browser-a", "c1")
    assert [t.question for t in turns] == ["凤桥镇2022年规上工业产值是多少", "那余新镇呢？"]
    assert turns[1].resolved == "余新镇2022年规上工业产值是多少？" and turns[1].record["passages"][0]["n"] == 1
    assert history.turns(db, "browser-b", "c1") == []  # another browser cannot open it
    assert [t.id for t in history.exportable(db, second.id)[1]] == [second.id]
    title, whole = history.conversation_of(db, second.id)
    assert title == "凤桥镇2022年规上工业产值是多少" and len(whole) == 2
    assert history.exportable(db, "nope") == ("", [])


def test_markdown_and_word_carry_the_sources(tmp_path):
    from docx import Document

    turns = [_turn("凤桥镇2022年规上工业产值是多少"), _turn("那余新镇呢？", "余新镇2022年规上工业产值是多少？")]
    markdown = export.to_markdown("对话", turns)
    assert "## 问：那余新镇呢？" in markdown and "（追问，按「余新镇2022年规上工业产值是多少？」回答）" in markdown
    assert "[1] 凤桥镇 · 2023年 · 政府工作报告｜一、2022年工作回顾" in markdown and "> 全年实现规上工业总产值91.7亿元" in markdown
    document = Document(io.BytesIO(export.to_docx("对话", turns)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "问：凤桥镇2022年规上工业产值是多少" in text and "全年实现规上工业总产值91.7亿元。[1]" in text
    assert "[1] 凤桥镇 · 2023年 · 政府工作报告｜一、2022年工作回顾" in text
    assert export.file_name('凤桥镇/2022: "产值"?', ".docx") == "凤桥镇_2022_产值.docx"
