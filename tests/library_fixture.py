"""A small statute library in LawRefBook's layout, written by tests: four laws, one repealed, one in two versions.

``write_library(folder)`` writes it. The 民法典 file overlaps the corpus (第六百八十一条, in the
corpus's text) and adds two articles the corpus does not hold; 合同法 is repealed (front matter
``status: 已废止``); 示例法 has an older version (历史版本) whose 第二条 differs from the newer one's.
"""

from __future__ import annotations

from pathlib import Path

CIVIL_CODE = """# 中华人民共和国民法典

2020年5月28日 第十三届全国人民代表大会第三次会议通过

<!-- INFO END -->

## 第三编 合同

### 第二分编 典型合同

#### 第十三章 保证合同

##### 第一节 一般规定

第六百八十一条 保证合同是为保障债权的实现，保证人和债权人约定，当债务人不履行到期债务或者发生当事人约定的情形时，保证人履行债务或者承担责任的合同。

## 第五编 婚姻家庭

### 第一章 一般规定

第一千零四十一条 婚姻家庭受国家保护。

实行婚姻自由、一夫一妻、男女平等的婚姻制度。

保护妇女、未成年人、老年人、残疾人的合法权益。

第一千零四十三条 家庭应当树立优良家风，弘扬家庭美德，重视家庭文明建设。

夫妻应当互相忠实，互相尊重，互相关爱；家庭成员应当敬老爱幼，互相帮助，维护平等、和睦、文明的婚姻家庭关系。
"""

COMPANY = """# 中华人民共和国示例公司法

2023年12月29日 第十四届全国人民代表大会常务委员会第七次会议修订

<!-- INFO END -->

## 第一章 总则

第一条 为了规范示例公司的组织和行为，制定本法。

第二条 本法所称示例公司，是指依照本法在中国境内设立的有限责任公司和股份有限公司。

## 第二章 公司登记

第三条 设立公司，应当依法向公司登记机关申请设立登记。

第四条 公司登记机关应当将公司登记事项通过国家企业信用信息公示系统向社会公示。
"""

CONTRACT_LAW = """---
status: 已废止
---

# 中华人民共和国合同法

1999年3月15日 第九届全国人民代表大会第二次会议通过

<!-- INFO END -->

## 第十二章 借款合同

第二百零六条 借款人应当按照约定的期限返还借款。对借款期限没有约定或者约定不明确，依照本法第六十一条的规定仍不能确定的，借款人可以随时返还；贷款人可以催告借款人在合理期限内返还。

第二百零七条 借款人未按照约定的期限返还借款的，应当按照约定或者国家有关规定支付逾期利息。
"""

EXAMPLE_2018 = """# 中华人民共和国示例法

2018年3月20日 第十三届全国人民代表大会第一次会议通过

<!-- INFO END -->

## 第一章 总则

第一条 为了示例，制定本法。

第二条 旧的示例规定自公布之日起施行。
"""

EXAMPLE_2024 = """# 中华人民共和国示例法

2024年12月25日 第十四届全国人民代表大会常务委员会第十三次会议修正

<!-- INFO END -->

## 第一章 总则

第一条 为了示例，制定本法。

第二条 新的示例规定自2025年6月1日起施行。
"""

FILES = {
    "民法典/民法典(2020-05-28).md": CIVIL_CODE,
    "经济法/示例公司法(2023-12-29).md": COMPANY,
    "民法商法/合同法(1999-03-15).md": CONTRACT_LAW,
    "宪法相关法/示例法(2018-03-20).md": EXAMPLE_2018,
    "宪法相关法/示例法(2024-12-25).md": EXAMPLE_2024,
}


def write_library(folder: Path) -> Path:
    for name, text in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder
