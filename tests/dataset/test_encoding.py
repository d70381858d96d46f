"""Telling GBK from Latin text (issue 9.1), and ``--encoding``: no file is ever read garbled without a word."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from toolkit.dataset.gbk import common_share, first_implausible_line, latin_reading
from toolkit.dataset.textio import check_encoding, decode_bytes
from toolkit.errors import DataError, UsageError

ACCENTED = "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿß"
ACCENTED_UPPER = "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝ"


def latin_word(rng: random.Random, accents: float) -> str:
    """A word of ASCII letters with accented letters inside it, where GBK sees a lead byte and a trail byte."""
    letters = [rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10))]
    for i in range(1, len(letters) - 1):
        if rng.random() < accents:
            letters[i] = rng.choice(ACCENTED if rng.random() < 0.9 else ACCENTED_UPPER)
    return "".join(letters).capitalize() if rng.random() < 0.3 else "".join(letters)


def latin_file(rng: random.Random, accents: float) -> bytes:
    rows = [",".join(" ".join(latin_word(rng, accents) for _ in range(rng.randint(1, 8))) for _ in range(7))
            for _ in range(rng.randint(1, 30))]
    return ("\n".join(rows) + "\n").encode("cp1252")


def test_helene_is_not_read_as_gbk() -> None:
    data = "id,name\n0,Hélène\n1,Québec\n".encode("cp1252")
    assert data.decode("gb18030") == "id,name\n0,H閘鑞e\n1,Qu閎ec\n"  # what used to be imported, exit 0
    with pytest.raises(DataError, match="cannot tell the encoding") as err:
        decode_bytes(data, "latin.csv")
    assert err.value.location.line == 2
    assert "'0,H閘鑞e'" in err.value.message and "'0,Hélène'" in err.value.message
    assert "--encoding cp1252" in (err.value.hint or "")


@pytest.mark.parametrize("accents", [0.01, 0.1])
def test_random_latin_text_is_never_read_as_gbk(accents: float) -> None:
    rng = random.Random(9)
    outcomes = {"ambiguous": 0, "unknown": 0}
    for _ in range(120):
        data = latin_file(rng, accents)
        if data.isascii():
            continue
        with pytest.raises(DataError) as err:
            decode_bytes(data)
        outcomes["ambiguous" if "cannot tell" in err.value.message else "unknown"] += 1
    assert outcomes["ambiguous"] >= 5  # the case that was imported silently as GBK before


def test_gbk_symbols_and_rare_names_stay_gbk() -> None:
    symbols = "下列说法正确的是：①富强②民主③文明④和谐；30°、2×3÷6、x≥√2±π、α/β、“引号”——省略"
    assert decode_bytes(symbols.encode("gbk")).encoding == "gb18030"
    assert decode_bytes("①②③ ≥ α β ° ×".encode("gbk")).encoding == "gb18030"  # symbols, no ideograph
    names = "诸葛亮与司马懿谁更善用兵？赟、喆、堃、犇、淼都是人名用字。"  # rare name characters among common ones
    assert decode_bytes(names.encode("gbk")).encoding == "gb18030"


def test_every_ceval_and_cmmlu_file_as_gbk_is_read_as_gbk(shared_dir: Path) -> None:
    files = sorted((shared_dir / "data" / "ceval").rglob("*.csv")) + sorted((shared_dir / "data" / "cmmlu").rglob("*.csv"))
    assert len(files) > 200
    lowest = 1.0
    for path in files:
        text = path.read_text(encoding="utf-8")
        data = text.encode("gb18030")
        if data == text.encode("utf-8"):
            continue
        decoded = decode_bytes(data, path)
        assert (decoded.encoding, decoded.text) == ("gb18030", text), path
        share = common_share(text)
        lowest = min(lowest, share if share is not None else 1.0)
    assert lowest > 0.8  # CMMLU's ancient_chinese is the lowest, about 0.89: far above the 0.5 limit


def test_first_implausible_line_names_both_readings() -> None:
    data = "id,q\n0,plain\n1,Saône et Rhône\n".encode("cp1252")
    assert first_implausible_line(data, data.decode("gb18030")) == (3, "1,Sa鬾e et Rh鬾e", "1,Saône et Rhône")
    chinese = "id,q\n0,题目\n".encode("gbk")
    assert first_implausible_line(chinese, chinese.decode("gb18030")) is None
    assert latin_reading(b"\x80 \x81 \x9c") == "€ \x81 œ"


def test_encoding_names_the_file_s_encoding() -> None:
    assert decode_bytes("Hélène".encode("cp1252"), encoding="cp1252").text == "Hélène"
    assert decode_bytes("Hélène".encode("cp1252"), encoding="latin-1").encoding == "iso8859-1"
    assert decode_bytes("題目".encode("big5"), encoding="big5").text == "題目"
    utf8 = decode_bytes("Hélène".encode(), encoding="cp1252")  # valid UTF-8 stays UTF-8
    assert (utf8.text, utf8.encoding) == ("Hélène", "utf-8")
    bom = decode_bytes(b"\xef\xbb\xbfid\n", encoding="utf-8")
    assert (bom.text, bom.encoding) == ("id\n", "utf-8-sig")
    wide = decode_bytes("id,题目\n".encode("utf-16"), encoding="utf-16")
    assert (wide.text, wide.encoding) == ("id,题目\n", "utf-16")


def test_a_wrong_encoding_names_the_byte_and_line() -> None:
    with pytest.raises(DataError, match=r"not valid utf-8: byte 0xcc on line 2") as err:
        decode_bytes("id\n题目\n".encode("gbk"), "bank.csv", encoding="utf-8")
    assert "--encoding" in (err.value.hint or "")


@pytest.mark.parametrize(("name", "message"), [("klingon", "unknown encoding"), ("base64", "not a text encoding")])
def test_unknown_encodings_are_usage_errors(name: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        check_encoding(name)


def test_a_long_line_is_shown_around_the_first_uncommon_ideograph() -> None:
    data = ("id,q\n0," + "x" * 5000 + " Hélène est au Québec " + "y" * 5000 + "\n").encode("cp1252")
    number, as_gb, as_latin = first_implausible_line(data, data.decode("gb18030"))
    assert number == 2 and len(as_gb) < 80 and len(as_latin) < 80
    assert as_gb.startswith("…x") and "H閘鑞e est au Qu閎ec" in as_gb and as_gb.endswith("y…")
    assert "Hélène est au Québec" in as_latin and as_latin.startswith("…x") and as_latin.endswith("y…")
