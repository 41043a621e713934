"""Whether a question is about another country's law, which no statute here answers.

legalqa holds the law of the People's Republic of China. A question about a speeding ticket in
the United States or France's labour law would otherwise be answered with whatever Chinese statute
shares its words (刑法, 劳动合同法), which misleads. ``foreign_scope`` reads how a question names a
foreign country:

- **under its law** (``ruled``): the country with a word of its legal system, 法国的劳动法, 美国法律,
  日本的签证; or a place in it, 在美国 …, with such a word anywhere in the question (在美国开车超速被
  警察拦下); or an English question naming it. The composer abstains and says why.
- **as a place** (``ruled`` False): 在日本旅游时…, 德国的租房押金. Chinese law may still govern (a
  Chinese travel agency's contract), so the answer stands, with a note that it quotes Chinese law.
- **in passing**: 买到假的法国红酒, 日本人, 美国籍, 在美国的儿子 — nothing to say.

A Chinese place in the question (国内, 中国, 境内 …) means nothing is said. The lists are short and
closed: countries, and the nouns of a legal system. Hong Kong, Macao and Taiwan are not on them:
national law speaks to them (the Basic Laws are in the library).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from legalqa.index.sparse import segment

# Foreign countries and unions people ask about, by their usual Chinese names.
FOREIGN = frozenset(
    "美国 英国 法国 德国 日本 韩国 朝鲜 俄罗斯 加拿大 澳大利亚 澳洲 新西兰 意大利 西班牙 葡萄牙 荷兰 "
    "比利时 瑞士 瑞典 挪威 丹麦 芬兰 奥地利 爱尔兰 希腊 波兰 乌克兰 土耳其 印度 巴基斯坦 泰国 越南 "
    "新加坡 马来西亚 印度尼西亚 印尼 菲律宾 缅甸 柬埔寨 老挝 蒙古 以色列 伊朗 沙特 阿联酋 迪拜 埃及 "
    "南非 尼日利亚 巴西 阿根廷 墨西哥 智利 秘鲁 欧盟".split()
)
# A place in China: the question is about Chinese law even if it also names another country.
DOMESTIC = frozenset("中国 我国 国内 境内 大陆 内地 中华人民共和国 本国".split())
# Words of a legal system: a country named with one of these is named as the law that rules.
LEGAL_SYSTEM = frozenset(
    "法律 法规 规定 法院 法官 律师 政府 警察 警方 移民局 海关 签证 移民 绿卡 护照 入籍 永居 税务局".split()
)
# Words that place something in a country: 在美国, 到日本, 去德国.
LOCATIVE = frozenset("在 到 去 赴 于".split())
# A place name followed by one of these names a person's nationality, not where the facts are.
NATIONALITY = frozenset("人 籍 公民 国籍 华人 华侨 留学生 男人 女人 老公 老婆 丈夫 妻子 男友 女友".split())
# … and "在美国的儿子" is a person too: a place, 的, then one of these.
PEOPLE = frozenset(
    "人 儿子 女儿 孩子 子女 父母 父亲 母亲 爸爸 妈妈 老公 老婆 丈夫 妻子 男友 女友 男朋友 女朋友 朋友 "
    "亲戚 同学 家人 哥哥 姐姐 弟弟 妹妹 爷爷 奶奶 外公 外婆 老人".split()
)

# English questions, with the Chinese name the answer uses. An English question naming another
# country (and not China) asks about that country's law.
_ENGLISH = {
    "美国": r"U\.?S\.?A?|United States|America", "英国": r"U\.?K\.?|Britain|England|Scotland|Wales",
    "加拿大": "Canada", "澳大利亚": "Australia", "新西兰": "New Zealand", "日本": "Japan", "韩国": "Korea",
    "德国": "Germany", "法国": "France", "意大利": "Italy", "西班牙": "Spain", "俄罗斯": "Russia", "印度": "India",
    "新加坡": "Singapore", "欧盟": r"EU|European Union",
}
_ENGLISH_FOREIGN = [(name, re.compile(rf"\b(?:{pattern})\b")) for name, pattern in _ENGLISH.items()]
_ENGLISH_DOMESTIC = re.compile(r"\b(?:China|Chinese|PRC|mainland)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ForeignScope:
    """A foreign country the question names as where its facts are, and whether under that country's law."""

    place: str  # its Chinese name, as the answer writes it
    ruled: bool  # named with its legal system (法国的劳动法, 在美国…被警察拦下): abstain; else a note


def _named_as(tokens: list[str], i: int) -> str | None:
    """How the place name at ``tokens[i]`` is used: "ruled", "place" or None (a nationality, a person, a
    product's origin)."""
    after = [t for t in tokens[i + 1 : i + 4] if t.strip()]
    if after and after[0] in NATIONALITY:
        return None
    if len(after) >= 2 and after[0] == "的" and after[1] in PEOPLE:
        return None
    nxt = after[1] if after and after[0] == "的" and len(after) > 1 else (after[0] if after else "")
    if nxt in LEGAL_SYSTEM or (len(nxt) >= 2 and nxt.endswith("法")):  # 法国的劳动法, 美国法律
        return "ruled"
    placed = i > 0 and tokens[i - 1] in LOCATIVE
    if placed or (i == 0 and after[:1] == ["的"]):  # 在日本…, 德国的押金…
        return "ruled" if any(t in LEGAL_SYSTEM for t in tokens) else "place"
    return None


def foreign_scope(question: str) -> ForeignScope | None:
    """The foreign country a question places its facts in, or None (none, only in passing, or a Chinese
    place named too). ``question`` is normalized text: Simplified characters, NFKC widths."""
    tokens = segment(question)
    nationality = [i + 1 < len(tokens) and tokens[i + 1] in NATIONALITY for i in range(len(tokens))]
    if any(t in DOMESTIC and not nationality[i] for i, t in enumerate(tokens)) or _ENGLISH_DOMESTIC.search(question):
        return None  # 中国人 is a nationality; 在国内, 中国法律 place the question in China
    uses = [(t, _named_as(tokens, i)) for i, t in enumerate(tokens) if t in FOREIGN]
    for wanted in ("ruled", "place"):
        found = next((t for t, use in uses if use == wanted), None)
        if found:
            return ForeignScope(found, wanted == "ruled")
    name = next((name for name, pattern in _ENGLISH_FOREIGN if pattern.search(question)), None)
    return ForeignScope(name, True) if name else None
