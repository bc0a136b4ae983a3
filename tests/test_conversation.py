"""Follow-ups resolved against the conversation, on the real catalog of the bundled corpus (no embedding needed)."""

import pytest

from reportqa.conversation import leans_on_previous, resolve

FLOWS = [
    (["凤桥镇2022年规上工业产值是多少", "那余新镇呢？"], "余新镇2022年规上工业产值是多少？"),
    (["凤桥镇2022年规上工业产值是多少", "那余新镇呢？", "去年呢？"], "余新镇2021年规上工业产值是多少？"),
    (["凤桥镇2022年规上工业产值是多少", "它的目标是多少？"], "凤桥镇2022年规上工业产值目标是多少？"),
    (["余新镇党委书记是谁？", "那凤桥镇呢？"], "凤桥镇党委书记是谁？"),
    (["哪个镇提到未来社区", "那污水零直排呢？"], "哪个镇提到污水零直排？"),
    (["哪个镇提到未来社区", "凤桥镇呢"], "凤桥镇是否提到未来社区？"),
    (["余新镇2021年规上工业总产值是多少？", "财政总收入呢？"], "余新镇2021年财政总收入是多少？"),
]


@pytest.mark.parametrize("questions, expected", FLOWS)
def test_follow_ups_carry_over_what_they_do_not_name(searcher, questions, expected):
    asked = []
    for question in questions:
        resolved = resolve(question, asked, searcher.understand)
        asked.append(resolved.question)
    assert resolved.question == expected and resolved.follow_up
    assert resolved.note() == f"追问，已补全为「{expected}」"


def test_a_standalone_question_is_left_alone(searcher):
    resolved = resolve("余新镇党委书记是谁？", ["凤桥镇2022年规上工业产值是多少"], searcher.understand)
    assert resolved.question == "余新镇党委书记是谁？" and not resolved.follow_up and resolved.note() == ""
    assert not leans_on_previous(searcher.understand("陶堰街道要打造哪三张金名片？"))
    assert resolve("那余新镇呢？", [], searcher.understand).question == "那余新镇呢？"  # nothing to lean on


def test_an_llm_condenses_and_a_failing_one_falls_back_to_the_rules(searcher):
    seen = []

    def condense(previous, question):
        seen.append((previous, question))
        return "「余新镇2022年规上工业总产值是多少？」"

    resolved = resolve("那余新镇呢？", ["凤桥镇2022年规上工业产值是多少"], searcher.understand, condense=condense)
    assert resolved.question == "余新镇2022年规上工业总产值是多少？" and seen == [(["凤桥镇2022年规上工业产值是多少"], "那余新镇呢？")]

    def broken(previous, question):
        raise ConnectionError("model down")

    resolved = resolve("那余新镇呢？", ["凤桥镇2022年规上工业产值是多少"], searcher.understand, condense=broken)
    assert resolved.question == "余新镇2022年规上工业产值是多少？"


def test_llm_condenser_prompts_with_the_history():
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from reportqa.conversation import llm_condenser

    condense = llm_condenser(FakeListChatModel(responses=["余新镇2022年规上工业产值是多少？\n（说明）"]))
    assert condense(["凤桥镇2022年规上工业产值是多少"], "那余新镇呢？") == "余新镇2022年规上工业产值是多少？"
