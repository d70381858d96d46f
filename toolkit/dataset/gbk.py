"""Telling GBK/GB18030 text from the bytes of another encoding.

GB18030 decodes almost any byte string, so decoding is no proof. Real Chinese text
is made of ideographs and the symbols GBK has (①, °, ×, ≥, α, “”, —, …, full-width
forms); bytes of another encoding decoded as GB18030 give private-use characters
(GBK's user-defined areas) or characters far outside that repertoire.
charset_normalizer's guess settles the rest.

Bytes of a Latin text (cp1252, Latin-1) can also decode to ideographs: an accented
letter followed by a Latin letter is a valid GBK pair (``Hélène`` reads ``H閘鑞e``).
Such readings are made of rare ideographs (GBK's extension areas, GB2312's level 2),
while real Chinese text is made of common ones: GB2312's 3,755 level-1 characters
are 89–100 % of the ideographs of every C-Eval and CMMLU file.
:func:`first_implausible_line` finds the text whose ideographs are mostly not common.
"""

from __future__ import annotations

import codecs
import functools
from collections import Counter

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
    non_ascii = _non_ascii(text)
    if not non_ascii:
        return True
    if any(_is_private_use(c) for c in non_ascii):
        return False
    chinese = sum(n for c, n in non_ascii.items() if _in_gb_repertoire(c))
    return chinese / non_ascii.total() >= 0.8


def _non_ascii(text: str) -> Counter[str]:
    """How often each non-ASCII character occurs (each distinct character is then judged once)."""
    if text.isascii():
        return Counter()
    return Counter({c: n for c, n in Counter(text).items() if c > "\x7f"})


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


COMMON_SHARE = 0.5
"""A GB18030 reading whose ideographs are less than this share common hanzi is not plausibly Chinese."""


@functools.cache
def common_hanzi() -> frozenset[str]:
    """GB2312's level-1 hanzi (bytes B0A1–D7F9): the 3,755 most common characters of Chinese text."""
    found: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                found.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # D7FA–D7FE are unassigned
    return frozenset(found)


def _is_ideograph(c: str) -> bool:
    code = ord(c)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or code >= 0x20000


def common_share(text: str) -> float | None:
    """The share of ``text``'s CJK ideographs that are common hanzi; None when it has none.

    Example:
        >>> common_share("下列说法正确的是"), common_share("H閘鑞e, Qu閎ec"), common_share("①°×")
        (1.0, 0.0, None)
    """
    common = common_hanzi()
    ideographs = {c: n for c, n in _non_ascii(text).items() if _is_ideograph(c)}
    if not ideographs:
        return None
    return sum(n for c, n in ideographs.items() if c in common) / sum(ideographs.values())


_CP1252 = {b: bytes((b,)).decode("cp1252") for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}


def latin_reading(data: bytes) -> str:
    """``data`` read as cp1252 (Western European); the five bytes cp1252 leaves unassigned read as Latin-1.

    Example:
        >>> latin_reading(b"caf\\xe9 \\x93ok\\x94")
        'café “ok”'
    """
    return data.decode("latin-1").translate(_CP1252)


SHOWN_BEFORE, SHOWN_AFTER = 25, 35
"""Characters shown before and after the first uncommon ideograph of a line in an error message."""


def first_implausible_line(data: bytes, text: str) -> tuple[int, str, str] | None:
    """When ``text`` (``data`` decoded as GB18030) is not plausibly Chinese, the first line that shows it.

    Not plausible: it has ideographs and fewer than :data:`COMMON_SHARE` of them are common
    hanzi. Returns ``(line number, the line as GB18030, the same bytes as cp1252)`` for the
    first line holding an uncommon ideograph (a long line cut to the part around it, ``…``
    marking the cuts); None when the reading is plausible.

    Example:
        >>> first_implausible_line("id\\nHélène".encode("cp1252"), "id\\nH閘鑞e")
        (2, 'H閘鑞e', 'Hélène')
    """
    share = common_share(text)
    if share is None or share >= COMMON_SHARE:
        return None
    common = common_hanzi()
    for number, raw in enumerate(data.split(b"\n"), start=1):  # 0x0A is never part of a GB18030 character
        line = raw.rstrip(b"\r").decode("gb18030", errors="replace")
        at = next((i for i, c in enumerate(line) if _is_ideograph(c) and c not in common), None)
        if at is not None:
            start, stop = max(0, at - SHOWN_BEFORE), min(len(line), at + SHOWN_AFTER)
            offset = len(line[:start].encode("gb18030", errors="replace"))
            size = len(line[start:stop].encode("gb18030", errors="replace"))
            cut = ("…" if start else "", "…" if stop < len(line) else "")
            return (number, cut[0] + line[start:stop] + cut[1],
                    cut[0] + latin_reading(raw[offset : offset + size]) + cut[1])
    return None
