"""Telling GBK/GB18030 text from the bytes of another encoding.

GB18030 decodes almost any byte string, so decoding is no proof. Real Chinese text
is made of ideographs and the symbols GBK has (①, °, ×, ≥, α, “”, —, …, full-width
forms); bytes of another encoding decoded as GB18030 give private-use characters
(GBK's user-defined areas) or characters far outside that repertoire.
charset_normalizer's guess settles the rest.
"""

from __future__ import annotations

import codecs

_GB_REPERTOIRE: tuple[tuple[int, int], ...] = (
    (0x00A0, 0x00FF),  # Latin-1 supplement: ° ± × ÷ § ¤ and the pinyin vowels à á è é
    (0x0100, 0x01DC),  # Latin extended (GBK has the pinyin ā ě ǐ ǒ ǔ ǖ ǘ ǚ ǜ)
    (0x0250, 0x0261),  # ɑ ɡ (pinyin)
    (0x02C6, 0x02DD),  # spacing modifiers: ˇ ˉ ˊ ˋ ˙
    (0x0370, 0x03FF),  # Greek: α β π Ω
    (0x0400, 0x04FF),  # Cyrillic
    (0x2000, 0x206F),  # general punctuation: “ ” ‘ ’ — … ‰ ※
    (0x2100, 0x26FF),  # letterlike ℃ №, number forms Ⅰ, arrows →, math ≥ √ ∞, technical ⌒,
                       # enclosed alphanumerics ① ⑴ ⒈, box drawing ─, blocks ▁, geometric ■ ○, symbols ★ ♀
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation: 、 。 《 》 【 】
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x312F),  # bopomofo
    (0x31A0, 0x31BF),  # bopomofo extended
    (0x31C0, 0x31EF),  # CJK strokes
    (0x3200, 0x33FF),  # enclosed CJK ㈠ ㊣, CJK compatibility ㎎ ㎡
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE10, 0xFE1F),  # vertical forms
    (0xFE30, 0xFE6F),  # CJK compatibility forms ︵ ︶, small forms ﹐ ﹑
    (0xFF00, 0xFFEF),  # full-width forms: ， ！ Ａ １
    (0x20000, 0x3134F),  # CJK extensions B and later (GB18030's four-byte ideographs)
)
"""Unicode ranges of the characters GBK/GB18030 text is made of besides ASCII."""


def _in_gb_repertoire(c: str) -> bool:
    code = ord(c)
    return any(low <= code <= high for low, high in _GB_REPERTOIRE)


def _is_private_use(c: str) -> bool:
    code = ord(c)
    return 0xE000 <= code <= 0xF8FF or code >= 0xF0000


def looks_chinese(text: str) -> bool:
    """True when 80 % of the non-ASCII characters are in GBK's repertoire and none is private-use.

    Example:
        >>> looks_chinese("下列说法正确的是：①富强②民主 α≥√2 30°"), looks_chinese("caf\\ue000")
        (True, False)
    """
    non_ascii = [c for c in text if ord(c) > 127]
    if not non_ascii:
        return True
    if any(_is_private_use(c) for c in non_ascii):
        return False
    chinese = sum(1 for c in non_ascii if _in_gb_repertoire(c))
    return chinese / len(non_ascii) >= 0.8


def is_gb_family(name: str) -> bool:
    """True for the names charset_normalizer gives GB encodings (gb18030, gbk, cp936, gb2312, hz)."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return False
    return canonical in ("gb18030", "gbk", "gb2312", "hz")


def guess_encoding_name(data: bytes) -> str:
    """charset_normalizer's guess at the encoding's name (``unknown`` when it has none)."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:65536]).best()
        return best.encoding if best is not None else "unknown"
    except Exception:  # noqa: BLE001 - a guess for a message must never fail
        return "unknown"
