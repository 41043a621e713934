"""Whether a question is about another country's law, which no statute here answers.

legalqa holds the law of the People's Republic of China. A question about a speeding ticket in
the United States or a deposit in Germany would otherwise be answered with whatever Chinese
statute shares its words (刑法, 劳动合同法), which misleads. ``foreign_place`` reads where the
question places its facts: a foreign country named as a place (在美国, 德国的押金, 英国的离婚),
not as a person's nationality (日本人, 美国籍, 在美国的儿子), and no Chinese place beside it
(国内, 中国, 境内 …). Then the composer abstains and says why.

The lists are short and closed: countries and unions, not laws or articles. Hong Kong, Macao and
Taiwan are not on them: national law speaks to them (the Basic Laws are in the library).
"""

from __future__ import annotations

import re

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
# A place name followed by one of these names a person's nationality, not where the facts are.
NATIONALITY = frozenset("人 籍 公民 国籍 华人 华侨 留学生 移民 男人 女人 老公 老婆 丈夫 妻子 男友 女友".split())
# … and "在美国的儿子" is a person too: a place, 的, then one of these.
PEOPLE = frozenset(
    "人 儿子 女儿 孩子 子女 父母 父亲 母亲 爸爸 妈妈 老公 老婆 丈夫 妻子 男友 女友 男朋友 女朋友 朋友 "
    "亲戚 同学 家人 哥哥 姐姐 弟弟 妹妹 爷爷 奶奶 外公 外婆 老人".split()
)

# The same in English questions, with the Chinese name the answer uses.
_ENGLISH = {
    "美国": r"U\.?S\.?A?|United States|America", "英国": r"U\.?K\.?|Britain|England|Scotland|Wales",
    "加拿大": "Canada", "澳大利亚": "Australia", "新西兰": "New Zealand", "日本": "Japan", "韩国": "Korea",
    "德国": "Germany", "法国": "France", "意大利": "Italy", "西班牙": "Spain", "俄罗斯": "Russia", "印度": "India",
    "新加坡": "Singapore", "欧盟": r"EU|European Union",
}
_ENGLISH_FOREIGN = [(name, re.compile(rf"\b(?:{pattern})\b")) for name, pattern in _ENGLISH.items()]
_ENGLISH_DOMESTIC = re.compile(r"\b(?:China|Chinese|PRC|mainland)\b", re.IGNORECASE)


def _as_place(tokens: list[str], i: int) -> bool:
    """Whether the place name at ``tokens[i]`` says where the facts are, not whose nationality."""
    after = [t for t in tokens[i + 1 : i + 3] if t.strip()]
    if after and after[0] in NATIONALITY:
        return False
    return not (len(after) == 2 and after[0] == "的" and after[1] in PEOPLE)


def foreign_place(question: str) -> str | None:
    """The foreign country a question places its facts in, or None (no such country, or a Chinese
    place named too). ``question`` is normalized text: Simplified characters, NFKC widths."""
    tokens = segment(question)
    domestic = any(t in DOMESTIC and _as_place(tokens, i) for i, t in enumerate(tokens))
    if domestic or _ENGLISH_DOMESTIC.search(question):
        return None
    for i, t in enumerate(tokens):
        if t in FOREIGN and _as_place(tokens, i):
            return t
    return next((name for name, pattern in _ENGLISH_FOREIGN if pattern.search(question)), None)
