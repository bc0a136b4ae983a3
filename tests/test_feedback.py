"""Ratings and thumbs on a real SQLite file: stored, exported, summarised, never lost."""

import csv
import os
import sqlite3

import pytest

from reportqa import feedback
from reportqa.feedback import FeedbackError, Rating, Thumb

PASSAGES = [{"source": "001_2bd030c6d8315c75.txt", "town": "凤桥镇", "section": "一、", "text": "未来社区", "score": 0.9}]


def rating(rater="张三", answer="余新镇、凤桥镇提到未来社区。[1]", qtype="which_towns", scores=(5, 4, 3), **kw):
    return Rating(
        rater=rater, question=kw.pop("question", "哪个镇提到未来社区"), answer=answer,
        correctness=scores[0], faithfulness=scores[1], citation=scores[2],
        question_id=kw.pop("question_id", "q1"), question_type=qtype, passages=PASSAGES, backend="extractive", **kw,
    )


def test_save_rating_creates_tables_and_stores_everything(tmp_path):
    db = tmp_path / "sub" / "feedback.sqlite3"
    row_id = feedback.save_rating(db, rating(comment=" 引用准确 "))
    assert row_id == 1 and db.exists()
    with sqlite3.connect(db) as connection:
        row = connection.execute(
            "SELECT rater, question, answer, passages, backend, correctness, faithfulness, citation, comment,"
            " question_id, question_type, created_at FROM ratings"
        ).fetchone()
    assert row[:3] == ("张三", "哪个镇提到未来社区", "余新镇、凤桥镇提到未来社区。[1]")
    assert "凤桥镇" in row[3] and row[4] == "extractive"
    assert row[5:11] == (5, 4, 3, "引用准确", "q1", "which_towns")
    assert row[11]  # a timestamp


@pytest.mark.parametrize(
    "change, message",
    [({"rater": " "}, "评分人"), ({"scores": (6, 4, 3)}, "1–5"), ({"scores": (None, 4, 3)}, "正确性"), ({"answer": ""}, "先提问")],
)
def test_invalid_ratings_are_refused_and_nothing_is_written(tmp_path, change, message):
    db = tmp_path / "feedback.sqlite3"
    with pytest.raises(FeedbackError, match=message):
        feedback.save_rating(db, rating(**change))
    assert feedback.ratings(db) == []


def test_reopening_keeps_old_rows(tmp_path):
    db = tmp_path / "feedback.sqlite3"
    feedback.save_rating(db, rating())
    feedback.connect(db).close()  # CREATE TABLE IF NOT EXISTS: a second open must not wipe anything
    feedback.save_rating(db, rating(rater="李四"))
    assert [r["rater"] for r in feedback.ratings(db)] == ["张三", "李四"]


def test_thumbs(tmp_path):
    db = tmp_path / "feedback.sqlite3"
    feedback.save_thumb(db, Thumb(True, "问", "答[1]", PASSAGES, "extractive", filters={"town": ["凤桥镇"]}))
    feedback.save_thumb(db, Thumb(False, "问2", "资料中未提及", [], "extractive", refused=True))
    rows = feedback.thumbs(db)
    assert [r["liked"] for r in rows] == [1, -1]
    assert rows[0]["filters"] == {"town": ["凤桥镇"]} and rows[1]["refused"] == 1
    s = feedback.summary(db)
    assert (s.thumbs_up, s.thumbs_down) == (1, 1)


def test_export_csv_round_trips_chinese(tmp_path):
    db = tmp_path / "feedback.sqlite3"
    feedback.save_rating(db, rating(comment="第二句没有出处"))
    out = feedback.export_csv(db, tmp_path / "out" / "ratings.csv")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    assert rows[0]["comment"] == "第二句没有出处" and rows[0]["correctness"] == "5"
    assert "凤桥镇" in rows[0]["passages"]
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel-friendly BOM
    thumbs_csv = feedback.export_csv(db, tmp_path / "thumbs.csv", table="thumbs")
    assert thumbs_csv.read_text(encoding="utf-8-sig").splitlines()[0].startswith("id,created_at,liked")


def test_summary_per_rater_per_type_and_agreement(tmp_path):
    db = tmp_path / "feedback.sqlite3"
    # The same answer rated by two raters: correctness agrees, faithfulness differs by 1, citation by 2.
    feedback.save_rating(db, rating(rater="张三", scores=(5, 4, 3)))
    feedback.save_rating(db, rating(rater="李四", scores=(5, 5, 5)))
    # A second answer: three raters → three pairs, all exact on every criterion.
    for rater in ("张三", "李四", "王五"):
        feedback.save_rating(db, rating(rater=rater, answer="资料中未提及", question="问题二", qtype="unanswerable", scores=(4, 4, 4)))
    # Only one rater on this answer: no pair.
    feedback.save_rating(db, rating(rater="张三", answer="另一个回答", question="问题三", qtype="", scores=(1, 1, 1)))

    s = feedback.summary(db)
    assert (s.n_ratings, s.n_raters, s.n_answers) == (6, 3, 3)
    per_rater = {g.group: g for g in s.per_rater}
    assert per_rater["张三"].n == 3 and per_rater["张三"].means["correctness"] == pytest.approx((5 + 4 + 1) / 3, abs=0.01)
    per_type = {g.group: g for g in s.per_type}
    assert set(per_type) == {"which_towns", "unanswerable", "（自由提问）"}
    assert per_type["which_towns"].means == {"correctness": 5.0, "faithfulness": 4.5, "citation": 4.0}
    agreement = {a.criterion: a for a in s.agreement}
    assert agreement["correctness"].pairs == 4
    assert agreement["correctness"].exact == 1.0 and agreement["correctness"].mean_abs_diff == 0.0
    assert agreement["faithfulness"].exact == 0.75 and agreement["faithfulness"].mean_abs_diff == 0.25
    assert agreement["citation"].mean_abs_diff == 0.5 and agreement["citation"].within_one == 0.75


def test_agreement_uses_each_raters_latest_score(tmp_path):
    db = tmp_path / "feedback.sqlite3"
    feedback.save_rating(db, rating(rater="张三", scores=(1, 1, 1)))
    feedback.save_rating(db, rating(rater="李四", scores=(5, 5, 5)))
    feedback.save_rating(db, rating(rater="张三", scores=(5, 5, 5)))  # 张三 revised; the old row stays
    s = feedback.summary(db)
    assert s.n_ratings == 3
    assert all(a.pairs == 1 and a.exact == 1.0 for a in s.agreement)


def test_empty_summary(tmp_path):
    s = feedback.summary(tmp_path / "none.sqlite3")
    assert s.n_ratings == 0 and s.per_rater == [] and all(a.pairs == 0 and a.exact is None for a in s.agreement)


# ---------------------------------------------------------------- faults of the database file (issue 13)


def test_a_directory_as_database_is_named_with_the_fix_and_never_blocks_the_summary(tmp_path):
    folder = tmp_path / "feedback.sqlite3"
    folder.mkdir()
    with pytest.raises(feedback.FeedbackUnavailable, match="文件夹") as info:
        feedback.check_database(folder)
    assert str(folder) in str(info.value) and "REPORTQA_FEEDBACK_DB" in str(info.value)
    with pytest.raises(feedback.FeedbackUnavailable, match="文件夹"):
        feedback.save_rating(folder, rating())
    empty, problem = feedback.summary_or_problem(folder)
    assert empty.n_ratings == 0 and "文件夹" in problem


def test_a_damaged_database_is_reported_not_overwritten(tmp_path):
    db = tmp_path / "feedback.sqlite3"
    db.write_bytes(b"this is not sqlite" * 100)
    before = db.read_bytes()
    with pytest.raises(feedback.FeedbackUnavailable, match="已损坏") as info:
        feedback.check_database(db)
    assert "改名备份" in str(info.value)
    assert feedback.summary_or_problem(db)[1]
    assert db.read_bytes() == before


def test_a_locked_database_is_retried_briefly_then_explained(tmp_path, monkeypatch):
    db = tmp_path / "feedback.sqlite3"
    feedback.save_rating(db, rating())
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(feedback, "BUSY_WAIT_S", 0.3)
    monkeypatch.setattr(feedback, "READ_WAIT_S", 0.1)
    try:
        with pytest.raises(feedback.FeedbackUnavailable, match="锁定"):
            feedback.save_thumb(db, Thumb(True, "问", "答"))
        assert "锁定" in feedback.summary_or_problem(db)[1]
    finally:
        holder.rollback()
        holder.close()
    assert feedback.save_thumb(db, Thumb(True, "问", "答")) == 1, "once the lock is gone, writes work again"


def test_a_read_only_database_says_so(tmp_path):
    db = tmp_path / "feedback.sqlite3"
    feedback.save_rating(db, rating())
    # root ignores file modes, so the read-only case is driven through SQLite's own read-only open
    readonly = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as raw:
        readonly.execute("INSERT INTO thumbs (created_at, liked, question, answer, answer_key) VALUES ('', 1, '', '', '')")
    readonly.close()
    message = str(feedback._unavailable(db, raw.value))
    assert str(db) in message and "只读" in message
    if os.geteuid() != 0:
        db.chmod(0o444)
        with pytest.raises(feedback.FeedbackUnavailable, match="只读"):
            feedback.save_thumb(db, Thumb(True, "问", "答"))


def test_export_neutralises_formula_cells(tmp_path):
    db = tmp_path / "feedback.sqlite3"
    feedback.save_rating(db, rating(comment='=HYPERLINK("http://x","点我")', rater="+张三"))
    out = feedback.export_csv(db, tmp_path / "r.csv")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        row = list(csv.DictReader(handle))[0]
    assert row["comment"] == '\'=HYPERLINK("http://x","点我")' and row["rater"] == "'+张三"
