"""読み: normalisation to hiragana, rejection of anything else, and the 五十音順 sort key (JIS X 4061)."""
import random

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from committee.models import Person
from core import kana
from tests import factories

SEED_READINGS = [
    "いけだ",
    "いしい",
    "いしざわ",
    "かとう",
    "さとう",
    "たちばな",
    "たてだ",
    "ほんだ",
    "もり",
    "もりもと",
    "やまうち",
    "わらび",
]


def ordered(*names: tuple[str, str]) -> list[tuple[str, str]]:
    return sorted(names, key=lambda name: kana.sort_key(*name))


def ordered_family(*readings: str) -> list[str]:
    return sorted(readings, key=kana.sort_key)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ヤマダ", "やまだ"),
        ("ｻﾄｳ", "さとう"),
        ("ﾎﾝﾀﾞ", "ほんだ"),  # the half-width 濁点 joins the kana before it
        ("ﾊﾟｰｸ", "ぱーく"),
        ("ヴィオラ", "ゔぃおら"),
        ("　さとう　", "さとう"),
        ("やまだ", "やまだ"),
        ("", ""),
    ],
)
def test_to_hiragana(value, expected):
    assert kana.to_hiragana(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("カトウ", "かとう"),
        ("ｶﾄｳ", "かとう"),
        ("ﾀﾁﾊﾞﾅ", "たちばな"),
        ("ｲｼｻﾞﾜ", "いしざわ"),
        ("　もりもと　", "もりもと"),
        ("\u3000ヤマウチ ", "やまうち"),
        ("ヤマ\u3000ウチ", "やま うち"),  # separators inside collapse to one half-width space
        ("ヤマ・ウチ", "やま うち"),
        ("ﾔﾏ･ｳﾁ", "やま うち"),
        ("やま\u3000\u3000 うち", "やま うち"),
        ("コーヒー", "こーひー"),
        ("きょう", "きょう"),
    ],
)
def test_normalise_reading_accepts_kana_and_returns_hiragana(value, expected):
    assert kana.normalise_reading(value) == expected


@pytest.mark.parametrize("value", ["山田", "やま田", "Yamada", "Ｙａｍａｄａ", "やまだ1", "やまだ！", "さとう-"])
def test_normalise_reading_rejects_kanji_and_latin(value):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        kana.normalise_reading(value)
    assert caught.value.code == "invalid_reading"
    assert caught.value.messages == [f"The reading must be written in hiragana or katakana only (got “{value}”)."]


@pytest.mark.parametrize("value", ["", "   ", "\u3000", "・", None])
def test_normalise_reading_requires_a_value_by_default(value):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        kana.normalise_reading(value)
    assert caught.value.code == "required"
    assert caught.value.messages == ["Enter the reading in kana."]


@pytest.mark.parametrize("value", ["", "\u3000", None])
def test_normalise_reading_allows_blank_when_optional(value):
    assert kana.normalise_reading(value, required=False) == ""


def test_normalise_reading_rejects_latin_even_when_optional():
    with pytest.raises(ValidationError):
        kana.normalise_reading("Taro", required=False)


@pytest.mark.parametrize("seed", range(5))
def test_seed_readings_sort_in_gojuon_order(seed):
    shuffled = SEED_READINGS[:]
    random.Random(seed).shuffle(shuffled)
    assert ordered_family(*shuffled) == SEED_READINGS


def test_seed_readings_in_katakana_sort_the_same():
    to_katakana = {code: code + 0x60 for code in range(0x3041, 0x3097)}
    katakana = [reading.translate(to_katakana) for reading in SEED_READINGS]
    assert ordered_family(*reversed(katakana)) == katakana


@pytest.mark.parametrize(
    "expected",
    [
        # 濁点 and 半濁点 are ignored at the first level; ties go unvoiced, voiced, semi-voiced.
        ["はら", "ばら", "ぱら"],
        ["は", "ば", "ぱ", "はあ", "ばあ", "ぱあ", "ひ"],
        ["さとう", "ざとう", "さとうい"],
        # はらだ and ばば compare as はらた and はは at the first level, so ばば comes first.
        ["ばば", "はらだ"],
        ["ほんた", "ほんだ", "ほんたい"],
        # Small kana count as their full size at the first level (code-point order would invert these).
        ["きよう", "きょか"],
        ["かつお", "かった"],
        ["きやま", "きょうこ", "きよか"],
        # ...and come first when everything else is equal (JIS X 4061: 小書き before 直音).
        ["きゃく", "きやく"],
        # ー stands for the vowel before it (code-point order would put it after ん).
        ["こーひー", "こおり"],
        ["さーか", "さあき"],
        ["ちょーし", "ちょか"],
        ["はあと", "ばあど", "ばーど"],
        ["ああく", "あーく", "ああけ"],
    ],
)
def test_sort_key_follows_jis_x_4061(expected):
    assert ordered_family(*reversed(expected)) == expected
    assert ordered_family(*sorted(expected)) == expected


@pytest.mark.parametrize(("first", "second"), [("さとう", "ざとう"), ("きょう", "きよう"), ("かあ", "かー")])
def test_sort_keys_of_different_readings_differ(first, second):
    assert kana.sort_key(first) < kana.sort_key(second)


@pytest.mark.parametrize(("written", "reading"), [("サトウ", "さとう"), ("ｻﾄｳ", "さとう"), (" さとう\u3000", "さとう")])
def test_sort_key_is_the_same_for_every_way_of_writing_a_reading(written, reading):
    assert kana.sort_key(written) == kana.sort_key(reading)


def test_family_reading_comes_before_given_reading():
    names = [("もりもと", "あきら"), ("もり", "たろう"), ("もり", "かずお"), ("もり", ""), ("もりた", "")]
    expected = [("もり", ""), ("もり", "かずお"), ("もり", "たろう"), ("もりた", ""), ("もりもと", "あきら")]
    assert ordered(*names) == expected


def test_given_reading_is_compared_before_voicing_of_the_family_reading():
    # Same first-level family reading: the given name decides before はら/ばら does.
    assert ordered(("はら", "たろう"), ("ばら", "あきら"), ("はら", "あきら")) == [
        ("はら", "あきら"),
        ("ばら", "あきら"),
        ("はら", "たろう"),
    ]


def test_the_split_between_family_and_given_matters():
    expected = [("もり", "もと"), ("もりも", "と"), ("もりもと", "")]
    assert ordered(*reversed(expected)) == expected


def test_sort_key_uses_only_characters_every_collation_orders_alike():
    for reading in [*SEED_READINGS, "こーひー", "ゔぃおら", "きゃく"]:
        assert set(kana.sort_key(reading, "たろう")) <= set("0123456789abcdef")


def test_people_come_back_from_the_database_in_gojuon_order(db):
    """The order holds under the database's own collation (SQLite here, PostgreSQL in CI)."""
    shuffled = [*SEED_READINGS, "はら", "ばら", "ぱら", "ばば", "はらだ"]
    random.Random(4061).shuffle(shuffled)
    for reading in shuffled:
        factories.PersonFactory(family_name_kana=reading, given_name_kana="")
    factories.PersonFactory(family_name_kana="もり", given_name_kana="かずお")
    factories.PersonFactory(family_name_kana="モリ", given_name_kana="タロウ")

    rows = list(Person.objects.order_by("sort_key").values_list("family_name_kana", "given_name_kana"))

    assert rows == [
        ("いけだ", ""),
        ("いしい", ""),
        ("いしざわ", ""),
        ("かとう", ""),
        ("さとう", ""),
        ("たちばな", ""),
        ("たてだ", ""),
        ("ばば", ""),
        ("はら", ""),
        ("ばら", ""),
        ("ぱら", ""),
        ("はらだ", ""),
        ("ほんだ", ""),
        ("もり", ""),
        ("もり", "かずお"),
        ("もり", "たろう"),
        ("もりもと", ""),
        ("やまうち", ""),
        ("わらび", ""),
    ]


@pytest.fixture(autouse=True)
def english():
    # The messages are asserted by their English msgids.
    from django.utils import translation

    with translation.override("en"):
        yield
