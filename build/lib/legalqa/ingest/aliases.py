"""Law names: the short names people write (民法典, 个保法, typos such as 民法点) and the full names the corpus uses.

``DEFAULT_ALIASES`` covers the national laws, regulations and judicial
interpretations that questions cite most; corpus front matter adds more through
``AliasTable(extra=...)`` or ``AliasTable.with_laws``. Pure data and lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TypeVar

T = TypeVar("T")

PRC = "中华人民共和国"

# National laws (and a few 条例) whose official title is 中华人民共和国 + this name.
_PRC_LAWS = """
民法典 刑法 宪法 民事诉讼法 刑事诉讼法 行政诉讼法 行政复议法 仲裁法 人民调解法
劳动争议调解仲裁法 农村土地承包经营纠纷调解仲裁法 海事诉讼特别程序法 引渡法 国际刑事司法协助法
合同法 担保法 婚姻法 物权法 侵权责任法 民法通则 民法总则 继承法 收养法 公司法 合伙企业法
个人独资企业法 企业破产法 保险法 信托法 证券法 证券投资基金法 票据法 商业银行法 商标法
专利法 著作权法 反不正当竞争法 反垄断法 消费者权益保护法 产品质量法 食品安全法 广告法 价格法
电子商务法 电子签名法 拍卖法 招标投标法 海商法 外商投资法 农民专业合作社法 农村土地承包法
涉外民事关系法律适用法 劳动法 劳动合同法 就业促进法 社会保险法 工会法 安全生产法 职业病防治法
妇女权益保障法 未成年人保护法 预防未成年人犯罪法 老年人权益保障法 残疾人保障法 反家庭暴力法
家庭教育促进法 慈善法 反电信网络诈骗法 个人信息保护法 数据安全法 网络安全法 治安管理处罚法
道路交通安全法 行政处罚法 行政许可法 行政强制法 国家赔偿法 立法法 监察法 公务员法 律师法
公证法 法律援助法 法官法 检察官法 人民法院组织法 人民检察院组织法 土地管理法 城市房地产管理法
城乡规划法 建筑法 环境保护法 旅游法 教育法 义务教育法 高等教育法 民办教育促进法 药品管理法
传染病防治法 医师法 基本医疗卫生与健康促进法 精神卫生法 禁毒法 出境入境管理法 居民身份证法
护照法 枪支管理法 消防法 税收征收管理法 个人所得税法 企业所得税法 会计法 审计法 预算法
统计法 反洗钱法 中国人民银行法 银行业监督管理法 铁路法 公路法 民用航空法 邮政法 森林法
野生动物保护法 种子法 农业法 水法 文物保护法 突发事件应对法 英雄烈士保护法 国家安全法
反恐怖主义法 香港特别行政区基本法 澳门特别行政区基本法 专属经济区和大陆架法 中医药法
中小企业促进法 乡村振兴促进法 乡镇企业法 人口与计划生育法 人民武装警察法 人民警察法
人民警察警衔条例 人民防空法 人民陪审员法 企业国有资产法 体育法 促进科技成果转化法
保守国家秘密法 全国人民代表大会和地方各级人民代表大会代表法
全国人民代表大会和地方各级人民代表大会选举法 全国人民代表大会常务委员会议事规则
全国人民代表大会组织法 全国人民代表大会议事规则 全民所有制工业企业法 公共图书馆法
公共文化服务保障法 公益事业捐赠法 公职人员政务处分法 关税法 兵役法 军事设施保护法 军人保险法
军人地位和权益保障法 农业技术推广法 农业机械化促进法 农产品质量安全法 农村集体经济组织法
出口管制法 动物防疫法 印花税法 反外国制裁法 反有组织犯罪法 反间谍法 反食品浪费法 可再生能源法
台湾同胞投资保护法 各级人民代表大会常务委员会监督法 噪声污染防治法 固体废物污染环境防治法
国务院组织法 国境卫生检疫法 国家勋章和国家荣誉称号法 国家情报法 国家通用语言文字法 国徽法
国旗法 国歌法 国籍法 国防交通法 国防动员法 国防教育法 国防法 土壤污染防治法
地方各级人民代表大会和地方各级人民政府组织法 城市居民委员会组织法 城市维护建设税法
境外非政府组织境内活动管理法 增值税法 外交特权与豁免条例 外国中央银行财产司法强制措施豁免法
外国国家豁免法 大气污染防治法 契税法 学位条例 学位法 学前教育法 密码法 对外关系法 对外贸易法
归侨侨眷权益保护法 循环经济促进法 戒严法 户口登记条例 放射性污染防治法 政府采购法 教师法
无障碍环境建设法 期货和衍生品法 村民委员会组织法 标准化法 核安全法 档案法 母婴保健法
民族区域自治法 气象法 水土保持法 水污染防治法 注册会计师法 测绘法 海上交通安全法 海关关衔条例
海关法 海南自由贸易港法 海域使用管理法 海岛保护法 海洋环境保护法 海警法 消防救援衔条例
深海海底区域资源勘探开发法 清洁生产促进法 渔业法 港口法 湿地保护法 澳门特别行政区驻军法
烟叶税法 烟草专卖法 煤炭法 爱国主义教育法 特种设备安全法 献血法 环境保护税法
环境噪声污染防治法 环境影响评价法 现役军官法 生物安全法 电力法 电影产业促进法 畜牧法
疫苗管理法 监察官法 监狱法 石油天然气管道保护法 矿产资源法 矿山安全法 社区矫正法
科学技术普及法 科学技术进步法 粮食安全保障法 红十字会法 缔结条约程序法 耕地占用税法 职业教育法
能源法 航道法 船舶吨税法 节约能源法 草原法 计量法 资产评估法 资源税法 车船税法 车辆购置税法
进出口商品检验法 进出境动植物检疫法 退役军人保障法 长江保护法 防沙治沙法 防洪法 防震减灾法
陆地国界法 集会游行示威法 青藏高原生态保护法 非物质文化遗产法 预备役人员法 预备役军官法
领事特权与豁免条例 领海及毗连区法 香港特别行政区维护国家安全法 香港特别行政区驻军法
驻外外交人员法 黄河保护法 黑土地保护法
""".split()

# Regulations (条例) whose official title also starts with 中华人民共和国.
_PRC_REGULATIONS = """
政府信息公开条例 著作权法实施条例 商标法实施条例 劳动合同法实施条例 道路交通安全法实施条例
土地管理法实施条例 专利法实施细则 企业所得税法实施条例 个人所得税法实施条例 消费者权益保护法实施条例
""".split()

# Titles without the 中华人民共和国 prefix.
_PLAIN_TITLES = """
征信业管理条例 物业管理条例 国有土地上房屋征收与补偿条例 医疗纠纷预防和处理条例 医疗事故处理条例
工伤保险条例 公司登记管理条例 反分裂国家法
""".split()

_SPC = "最高人民法院"
_INTERPRETATIONS: dict[str, tuple[str, ...]] = {
    f"{_SPC}关于审理民间借贷案件适用法律若干问题的规定": (
        "民间借贷司法解释", "民间借贷规定", "《民间借贷规定》", "民间借贷解释",
    ),
    f"{_SPC}关于适用《{PRC}民法典》有关担保制度的解释": (
        f"{_SPC}关于适用《民法典》有关担保制度的解释", "担保制度解释", "担保制度司法解释",
        "民法典担保制度解释", "民法典担保解释",
    ),
    f"{_SPC}关于适用《{PRC}民事诉讼法》的解释": (
        f"{_SPC}关于适用《民事诉讼法》的解释", "民诉法解释", "民事诉讼法解释", "民诉解释",
    ),
    f"{_SPC}关于适用《{PRC}刑事诉讼法》的解释": (
        f"{_SPC}关于适用《刑事诉讼法》的解释", "刑诉法解释", "刑事诉讼法解释",
    ),
    f"{_SPC}关于适用《{PRC}行政诉讼法》的解释": (f"{_SPC}关于适用《行政诉讼法》的解释", "行诉法解释"),
    f"{_SPC}关于适用《{PRC}民法典》婚姻家庭编的解释（一）": (
        f"{_SPC}关于适用《民法典》婚姻家庭编的解释（一）",
        "婚姻家庭编解释（一）",
        "民法典婚姻家庭编解释（一）",
    ),
    f"{_SPC}关于适用《{PRC}民法典》总则编若干问题的解释": (
        f"{_SPC}关于适用《民法典》总则编若干问题的解释", "总则编解释", "民法典总则编解释",
    ),
    f"{_SPC}关于适用《{PRC}民法典》继承编的解释（一）": (
        f"{_SPC}关于适用《民法典》继承编的解释（一）", "继承编解释（一）",
    ),
    f"{_SPC}关于审理劳动争议案件适用法律问题的解释（一）": ("劳动争议解释（一）", "劳动争议司法解释（一）"),
    f"{_SPC}关于审理建设工程施工合同纠纷案件适用法律问题的解释（一）": (
        "建设工程施工合同解释（一）", "建工解释（一）",
    ),
}

# Abbreviations in common use, short name -> the name in _PRC_LAWS.
_ABBREVIATIONS = {
    "个保法": "个人信息保护法",
    "民诉法": "民事诉讼法",
    "刑诉法": "刑事诉讼法",
    "行诉法": "行政诉讼法",
    "消保法": "消费者权益保护法",
    "消法": "消费者权益保护法",
    "道交法": "道路交通安全法",
    "治安处罚法": "治安管理处罚法",
    "网安法": "网络安全法",
    "数安法": "数据安全法",
}

# Typo aliases: misspellings of a well-known name that questions actually contain (pinyin
# input picks a homophone), short name -> the name in _PRC_LAWS. Keep this list short and
# unambiguous: every entry is matched anywhere in any text. 刑发 (for 刑法) is left out, since
# it occurs in ordinary words (死刑发回重审) and in document numbers (〔2019〕…刑发…).
_TYPOS = {
    "民法点": "民法典",
    "名法典": "民法典",
    "民发典": "民法典",
}


def _build_defaults() -> dict[str, str]:
    table: dict[str, str] = {}
    for short in _PRC_LAWS + _PRC_REGULATIONS:
        table[short] = PRC + short
    for title in _PLAIN_TITLES:
        table[title] = title
    for abbr, short in (_ABBREVIATIONS | _TYPOS).items():
        table[abbr] = PRC + short
    for full, aliases in _INTERPRETATIONS.items():
        for alias in aliases:
            table[alias] = full
    for full in set(table.values()):
        table[full] = full
    return table


DEFAULT_ALIASES: dict[str, str] = _build_defaults()


def clean_name(name: str) -> str:
    """Strip whitespace and one outer pair of 《》; write inner 〈〉 as 《》 (titles nest that way)."""
    name = name.strip()
    if name.startswith("《") and name.endswith("》"):
        name = name[1:-1].strip()
    return name.replace("〈", "《").replace("〉", "》")


def _loose_key(name: str) -> str:
    """The name without any 《》 or 中华人民共和国, for matching 民法典 against 中华人民共和国民法典."""
    return name.replace("《", "").replace("》", "").replace(PRC, "")


class AliasTable:
    """Short name -> full name, from ``DEFAULT_ALIASES`` plus ``extra`` (alias -> full name).

    Immutable: ``with_laws`` returns a new table. ``extra`` wins over the defaults,
    since corpus front matter is the authority on its own laws.
    """

    __slots__ = ("_extra", "_map", "_loose", "_names", "_memo")

    def __init__(self, extra: Mapping[str, str] | None = None) -> None:
        merged: dict[str, str] = {}
        for alias, full in DEFAULT_ALIASES.items():
            merged[clean_name(alias)] = clean_name(full)
        extra = dict(extra or {})
        for alias, full in extra.items():
            if not isinstance(alias, str) or not isinstance(full, str) or not clean_name(alias) \
                    or not clean_name(full):
                raise ValueError(
                    f"alias table entries must be non-empty strings, got {alias!r} -> {full!r}"
                )
            merged[clean_name(alias)] = clean_name(full)
        for full in set(merged.values()):
            merged.setdefault(full, full)
        loose: dict[str, str] = {}
        # Full names first, so a loose key that two names share resolves to a law's own title.
        for full in sorted(set(merged.values())):
            loose.setdefault(_loose_key(full), full)
        for alias, full in merged.items():
            loose.setdefault(_loose_key(alias), full)
        self._extra = MappingProxyType(extra)
        self._map = MappingProxyType(merged)
        self._loose = MappingProxyType(loose)
        self._names = tuple(sorted(merged, key=lambda s: (-len(s), s)))
        self._memo: dict[str, object] = {}

    def resolve(self, name: str) -> str | None:
        """The full name for ``name`` (《》 optional, 中华人民共和国 optional), or None when unknown."""
        name = clean_name(name)
        if not name:
            return None
        found = self._map.get(name)
        if found is not None:
            return found
        return self._loose.get(_loose_key(name))

    def names(self) -> list[str]:
        """Every alias and full name, longest first (so a regex alternation prefers 劳动合同法 to 合同法)."""
        return list(self._names)

    def memo(self, key: str, make: Callable[[], T]) -> T:
        """A value derived from this table (it never changes), made on first use: e.g. the citation regex."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]  # type: ignore[return-value]

    def with_laws(self, laws: Mapping[str, Iterable[str]]) -> AliasTable:
        """A new table that also knows ``laws`` (full name -> its aliases)."""
        extra = dict(self._extra)
        for full, aliases in laws.items():
            extra[full] = full
            if isinstance(aliases, str):
                raise ValueError(f"aliases of {full!r} must be a list of names, got the string {aliases!r}")
            for alias in aliases:
                extra[alias] = full
        return AliasTable(extra)

    def __len__(self) -> int:
        return len(self._map)

    def __repr__(self) -> str:
        return f"AliasTable({len(self._map)} names, {len(self._extra)} extra)"
