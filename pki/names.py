"""Split a registered personal name into surname and given name for the certificate subject.

ETSI EN 319 412-2 (NAT-4.2.4-1) wants surname and givenName, or a pseudonym, in a natural
person's certificate. The registered name (居民身份证上的姓名) is one string, so it is split
here: a Han name's surname is its first character, or the first two when they form one of the
known compound surnames (复姓); a name written with the interpunct of minority and
transliterated names (e.g. 买买提·艾力) has the given name first and the family name last; a
Latin-script name ("San Zhang") has the family name last. The whole name still goes into CN.
"""

from __future__ import annotations

from dataclasses import dataclass

_COMPOUND_SURNAMES = (
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 "
    "夏侯 轩辕 令狐 端木 独孤 南宫 西门 澹台 公冶 宗政 濮阳 淳于 "
    "单于 太叔 申屠 钟离 闻人 万俟 赫连 呼延 百里 东郭 拓跋 司空 "
    "闾丘 子车 亓官 司寇 巫马 公西 颛孙 壤驷 公良 漆雕 乐正 宰父 "
    "谷梁 段干 左丘 东门 梁丘 第五 鲜于 公羊 羊舌 微生 仲孙 叔孙 "
    "歐陽 司馬 諸葛 長孫 軒轅 鍾離 聞人 萬俟 赫連 閭丘 "
)
COMPOUND_SURNAMES = frozenset(_COMPOUND_SURNAMES.split())
_INTERPUNCTS = ("·", "•", "・", "‧")


@dataclass(frozen=True)
class SplitName:
    surname: str
    given_name: str


def _is_han(text: str) -> bool:
    return all("\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f" for ch in text)


def split_name(name: str) -> SplitName | None:
    """Surname and given name of `name`, or None when it cannot be split (one character)."""
    text = name.strip()
    for mark in _INTERPUNCTS:
        if mark in text:
            given, _, family = text.rpartition(mark)
            given, family = given.strip(mark + " "), family.strip()
            return SplitName(family, given) if given and family else None
    if " " in text:
        given, _, family = text.rpartition(" ")
        return SplitName(family, given.strip()) if given.strip() and family else None
    if _is_han(text) and len(text) >= 2:
        if len(text) >= 3 and text[:2] in COMPOUND_SURNAMES:
            return SplitName(text[:2], text[2:])
        return SplitName(text[0], text[1:])
    return None
