"""Follow-up questions: 「那余新镇呢？」 after 「凤桥镇2022年规上工业产值是多少」.

A clerk asks the way people talk: the second question names only what changes.
The previous question's understanding (place, year, document kind, item) is
carried over and whatever the new question names replaces it; the result is a
standalone question the answer chain reads like any other, so every answer
stays reproducible from the question shown with it. With an LLM the history is
condensed by the model instead, and the rules are the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from reportqa.question import WHICH, Understanding, years_label

# 「那…呢」「还有…」 lean on the previous question; so does a pronoun for its item.
LEANS = re.compile(r"^(那么?|那个|还有|另外|再问|换成|换作|如果是)|呢[？?。!！\s]*$")
PRONOUN = re.compile(r"它们?|其|该项|这项|这个指标|此项|这一项|上述")
# Where the asking starts in a question: 「是多少」「有哪些」「怎么样」「是谁」.
ASKING = re.compile(r"(?:是|有|为|达到|完成了?|实现了?)?(?:多少|多大|多高|几[个家项成]?|哪些|哪几|哪个|什么|怎么|怎样|如何|谁|吗)")
MENTIONED = re.compile(r"提到|提及|提过|讲到|说到|谈到|涉及|写到")
TRAILING = "？?。!！ \t呢"

CONDENSE_PROMPT = (
    "下面是用户与报告问答助手的对话。请把用户最后一句追问改写成一个不依赖上文、可以单独理解的完整问题，"
    "补全其中省略的地名、年份和事项；用户新说出的地名、年份、事项替换上文的。只输出改写后的问题，不要解释。"
)


@dataclass
class Resolved:
    asked: str  # what the user typed
    question: str  # the standalone question passed to the answer chain
    follow_up: bool  # whether the conversation filled something in

    def note(self) -> str:
        """「追问，按「余新镇2022年规上工业产值是多少？」回答」, or "" for a standalone question."""
        return f"追问，已补全为「{self.question}」" if self.follow_up else ""


def leans_on_previous(u: Understanding) -> bool:
    """Does the question need the previous one to make sense (「那余新镇呢？」「去年呢？」「它的目标是多少？」)?"""
    return bool(LEANS.search(u.question) or PRONOUN.search(u.question) or not u.item)


def _asking(u: Understanding) -> str:
    """The asking part of a question as written (「是多少」), or 「哪个镇提到」 for a which-question."""
    question = u.question.rstrip(TRAILING)
    if u.kind == "which":
        which, mention = WHICH.search(question), MENTIONED.search(question)
        if which:
            end = mention.end() if mention and mention.start() >= which.end() else which.end()
            return question[which.start() : end]
    found = list(ASKING.finditer(question))
    return found[-1].group(0) if found else ""


def combine(previous: Understanding, current: Understanding) -> str:
    """The standalone question: the previous one's place, year, kind and item, replaced where the new one names them."""
    scope = _carried_scope(previous, current)
    if current.item and PRONOUN.search(current.question):
        item = previous.item + current.item  # 「它的目标」: the target of the previous item
    else:
        item = current.item or previous.item
    asking = _asking(current) or _asking(previous)
    kind = current.kind if _asking(current) else previous.kind
    if kind == "which" and current.place_names:  # 「哪个镇提到X」 then 「凤桥镇呢」: does 凤桥镇 mention X
        return f"{scope}是否提到{item}？"
    if kind == "which":
        return f"{scope}{asking}{item}？"
    return f"{scope}{item}{asking}？"


def compound_follow_up(first: Understanding, then: Understanding) -> str:
    """The second part of a compound question as a question of its own: it speaks of the first
    part's subject (「…科技型中小企业去年新增了几家，今年目标是几家」: the target of those enterprises)
    unless it names a place or report of its own."""
    if then.place_names or then.reports_label:
        return then.question
    return f"{_carried_scope(first, then)}{first.item}{then.item}{_asking(then)}？"


def _carried_scope(previous: Understanding, current: Understanding) -> str:
    """「凤桥镇2023年」: the places, reports, years and document kinds the new question names, else the previous one's."""
    places = current.place_names or previous.place_names
    reports = current.reports_label or ([] if current.place_names else previous.reports_label)
    years = current.years or previous.years
    return "、".join(places + reports) + years_label(years) + "".join(current.doc_types or previous.doc_types)


def resolve(
    question: str,
    previous: list[str],
    understand: Callable[[str, dict | None], Understanding],
    filters: dict | None = None,
    condense: Callable[[list[str], str], str] | None = None,
) -> Resolved:
    """The question as the answer chain should read it, given the earlier (already resolved) questions.

    `understand` is the searcher's; `condense`, when given, is an LLM rewriting the history (its
    answer is used only if it reads as a question that names something).
    """
    question = question.strip()
    current = understand(question, filters)
    if not previous or not leans_on_previous(current):
        return Resolved(question, question, False)
    if condense is not None:
        try:
            condensed = condense(previous, question).strip().strip("「」\"'")
        except Exception:  # an unreachable model must not lose the question: fall back to the rules
            condensed = ""
        if condensed and len(condensed) <= 4 * max(len(previous[-1]), len(question)):
            return Resolved(question, condensed, condensed != question)
    last = understand(previous[-1], filters)
    if not current.places and last.places:  # 「去年」 counts back from the carried place's newest report
        current = understand(question, {**(filters or {}), **last.places})
    standalone = combine(last, current)
    return Resolved(question, standalone, standalone != question)


def llm_condenser(llm) -> Callable[[list[str], str], str]:
    """Condense with a chat model (any LangChain Runnable): the earlier questions and the follow-up in, one question out."""
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("system", CONDENSE_PROMPT), ("human", "{history}\n追问：{question}")])
    chain = prompt | llm | StrOutputParser()

    def condense(previous: list[str], question: str) -> str:
        history = "\n".join(f"问{n}：{q}" for n, q in enumerate(previous[-4:], 1))
        return chain.invoke({"history": history, "question": question}).strip().splitlines()[0]

    return condense
