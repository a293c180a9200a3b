import pytest

from pipeline.models import WordTiming
from pipeline.speech_text import cardinal, ordinal, spoken_text, written_timings, year


@pytest.mark.parametrize(
    "written, spoken",
    [
        ("It costs $5.50.", "It costs five dollars and fifty cents."),
        ("Only $1, or $0.99 on sale.", "Only one dollar, or ninety-nine cents on sale."),
        ("They raised $1.2 million.", "They raised one point two million dollars."),
        ("A $3bn deal for £3 and €2.50", "A three billion dollars deal for three pounds and two euros and fifty cents"),
        ("Dr. Smith met Mr. Jones.", "Doctor Smith met Mister Jones."),
        ("Music of the 1990s and '80s", "Music of the nineteen nineties and 'eighties"),
        ("About 3% or 12.5% of it", "About three percent or twelve point five percent of it"),
        ("In 1905, 2000 and 2024.", "In nineteen oh five, two thousand and twenty twenty-four."),
        ("On May 5 at 3:30, not 10:00.", "On May fifth at three thirty, not ten o'clock."),
        ("Jan. 21st, the 42nd day", "January twenty-first, the forty-second day"),
        ("Bees fly 5km, e.g. far, etc.", "Bees fly five kilometres, for example far, et cetera."),
        ("1,500,000 fans vs. 12 teams", "one million five hundred thousand fans versus twelve teams"),
        (
            "From 1990-2000 at -40 degrees & 3.14 km",
            "From nineteen ninety to two thousand at minus forty degrees and three point one four kilometres",
        ),
        ("Octopuses change colour.", "Octopuses change colour."),
    ],
)
def test_english_is_spoken_in_words(written, spoken):
    said, counts = spoken_text(written)
    assert said == spoken
    assert len(counts) == len(written.split()) and sum(counts) == len(said.split())


def test_number_words():
    assert cardinal(0) == "zero" and cardinal(21) == "twenty-one" and cardinal(101) == "one hundred one"
    assert cardinal(2_000_013) == "two million thirteen"
    assert [ordinal(n) for n in (1, 2, 3, 12, 20, 21, 100)] == [
        "first",
        "second",
        "third",
        "twelfth",
        "twentieth",
        "twenty-first",
        "one hundredth",
    ]
    assert [year(n) for n in (1900, 1999, 2001, 2010, 1066)] == [
        "nineteen hundred",
        "nineteen ninety-nine",
        "two thousand one",
        "twenty ten",
        "ten sixty-six",
    ]


def test_other_languages_go_to_the_voice_as_written():
    assert spoken_text("Il a payé 5 €.", "fr") == ("Il a payé 5 €.", [1, 1, 1, 1, 1])


def test_spoken_timings_come_back_onto_the_written_words():
    said, counts = spoken_text("Pay $5.50 now")
    spoken = [WordTiming(word=w, start=i, end=i + 0.5) for i, w in enumerate(said.split())]
    written = written_timings("Pay $5.50 now", spoken, counts)
    assert [(w.word, w.start, w.end) for w in written] == [("Pay", 0, 0.5), ("$5.50", 1, 5.5), ("now", 6, 6.5)]
