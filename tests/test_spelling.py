"""Typos and abbreviations are read as the corpus's words only where the corpus backs the reading."""

from reportqa.lexicon import Tokenizer
import re
from collections import Counter

from reportqa.insearch import spelled_out_pattern
from reportqa.spelling import _opened_by, homophone_variants, respell, spell_out

CORPUS = "天目山镇全年完成工业投资6700余万元。扎实推进“凤凰涅槃、腾笼换鸟”攻坚行动。全面推进生态文明建设。粮食种植面积5.4万亩，只有过高的指标需要调整。延续几千年的传统。"
TOKENIZER = Tokenizer(["天目山镇", "腾笼换鸟"])
VOCABULARY = set(TOKENIZER.tokens(CORPUS))
PLACES_AND_TERMS = {"天目山镇", "天目山", "腾笼换鸟"}


def _respell(question: str):
    return respell(question, TOKENIZER, VOCABULARY.__contains__, PLACES_AND_TERMS, CORPUS.__contains__)


def test_variants_sound_alike():
    variants = set(homophone_variants("天木山"))
    assert "天目山" in variants and "天土山" not in variants


def test_a_place_or_a_term_typed_with_a_homophone_is_read_as_the_corpus_spells_it():
    assert _respell("天木山镇今年工业投资完成了多少") == ("天目山镇今年工业投资完成了多少", [("天木山镇", "天目山镇")])
    assert _respell("腾龙换鸟哪几个地方提到了")[1] == [("腾龙换鸟", "腾笼换鸟")]


def test_another_word_is_respelled_where_the_corpus_holds_it_beside_the_same_neighbour():
    assert _respell("报告讲生太文明建设抓哪几块")[0] == "报告讲生态文明建设抓哪几块"


def test_a_particle_beside_a_word_is_no_evidence_of_a_typo():
    corpus = "加强党的人力资源建设。"
    holds, known = corpus.__contains__, set(TOKENIZER.tokens(corpus)).__contains__
    assert respell("今年新入党的人里有多少是工人", TOKENIZER, known, set(), holds)[1] == [], "的人里有: people among, no 人力"


def test_words_the_corpus_holds_and_abbreviations_are_no_typos():
    assert _respell("粮食种植面积有多少亩") == ("粮食种植面积有多少亩", [])  # 面积有 is no typo of 只有
    assert _respell("新增几家国高企") == ("新增几家国高企", [])  # 过高 sounds like 国高, but never before 企
    assert _respell("前年的报告里新增几家企业")[1] == [], "前年 is a word of the language, though only 千年 is in the reports"


SPELLED_OUT = "新增国家高新技术企业5家。严厉打击电信网络诈骗等违法犯罪。在任何外国都一样。依法出租或出售给企业。反对新老修正主义。"


def _spell_out(question: str):
    def spellings(term: str) -> Counter[str]:
        return Counter(re.findall(spelled_out_pattern(term), SPELLED_OUT))

    tokenizer = Tokenizer()
    known = set(tokenizer.tokens(SPELLED_OUT)).__contains__
    return spell_out(question, tokenizer, known, SPELLED_OUT.__contains__, spellings)


def test_an_abbreviation_is_read_as_the_phrase_whose_words_its_characters_open():
    assert _spell_out("凤桥镇想新增几家国高企") == ("凤桥镇想新增几家国家高新技术企业", [("国高企", "国家高新技术企业")])
    assert _spell_out("打击电诈这块哪几个镇提到")[1] == [("电诈", "电信网络诈骗")]


def test_words_of_the_language_and_phrases_ending_in_no_noun_are_no_abbreviations():
    assert _spell_out("在外打拼的人有多少")[1] == [], "在外 is a word, though 在任何外国 opens with its characters"
    assert _opened_by("租给", Tokenizer().tagged("出租或出售给企业"), Tokenizer().smallest_parts) == "", "租给 does not open 出租"
    assert _opened_by("租给", Tokenizer().tagged("租或出售给"), Tokenizer().smallest_parts) == "", "租或出售给 names no thing"
    assert _spell_out("今年新修了几公里绿道")[1] == [], "新修 is used as a verb, though 新老修正主义 opens with its characters"


def test_an_abbreviation_may_open_the_parts_of_one_dictionary_term():
    tokenizer = Tokenizer(["固定资产投资"])
    assert _opened_by("固投", tokenizer.tagged("固定资产投资增长"), tokenizer.smallest_parts) == "固定资产投资"
    assert _opened_by("固投", tokenizer.tagged("固定资产投入"), tokenizer.smallest_parts) == "", "投入 is a verb here"
