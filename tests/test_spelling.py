"""Homophone typo correction: exact on hand-made lexicons, and on the shipped domain words."""

from legalqa.index.expansion import load_rules
from legalqa.index.spelling import Speller, dictionary_words, domain_words


def fixes(speller: Speller, text: str) -> list[tuple[str, str]]:
    return [(c.written, c.meant) for c in speller.correct(text)[1]]


def test_window_with_the_sound_of_a_lexicon_word_is_corrected():
    sp = Speller(["网贷", "催收", "身份证"])
    text, found = sp.correct("网代崔收，身份正丢了")
    assert text == "网贷催收，身份证丢了"
    assert [(c.written, c.meant, c.start) for c in found] == [("网代", "网贷", 0), ("崔收", "催收", 2), ("身份正", "身份证", 5)]


def test_real_words_and_ambiguous_sounds_are_left_alone():
    assert Speller(["网贷"], known={"网代"}).correct("网代")[1] == []
    assert Speller(["征信", "正心"]).correct("正信")[1] == []  # zheng xin could be either
    assert Speller(["网贷"]).correct("What is 网贷")[1] == []


def test_shipped_domain_words_fix_common_typos_only():
    sp = Speller(domain_words(load_rules()), known=dictionary_words())
    assert fixes(sp, "网代崔收天天打电话骚饶我的家人和同事") == [("网代", "网贷"), ("崔收", "催收"), ("骚饶", "骚扰")]
    assert fixes(sp, "担宝人要还钱吗") == [("担宝人", "担保人")]
    assert fixes(sp, "正信有问题") == [("正信", "征信")]
    for clean in ["我给朋友的网贷做了担保，他不还钱", "今天天气怎么样", "怎么注册商标？", "我老公背着我借了网贷"]:
        assert fixes(sp, clean) == [], clean
