"""Shortcode rendering (DESIGN.md §5) and GSM-7/UCS-2 segment counting (tech-notes §5)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_BODY_CHARS,
    SHORTCODES,
    SegmentInfo,
    count_segments,
    render,
    unknown_shortcodes,
)

PHONE = "+15551234567"
EMOJI = "\U0001f600"  # outside the BMP: two UTF-16 code units
NBSP = "\u00a0"
RIGHT_QUOTE = "\u2019"


# --- render -------------------------------------------------------------------------------


def test_render_replaces_every_shortcode() -> None:
    body = (
        "{customer_full_name}|{customer_name}|{customer_first_name}|"
        "{customer_last_name}|{customer_phone}"
    )
    text = render(body, first_name="Ana", last_name="Silva", phone=PHONE)
    assert text == f"Ana Silva|Ana Silva|Ana|Silva|{PHONE}"


@pytest.mark.parametrize(
    ("first", "last", "full"),
    [
        ("Ana", None, "Ana"),
        (None, "Silva", "Silva"),
        ("  Ana ", " Silva  ", "Ana Silva"),
        ("", "", PHONE),
        (None, None, PHONE),
        ("   ", None, PHONE),
    ],
)
def test_full_name_is_trimmed_and_falls_back_to_phone(
    first: str | None, last: str | None, full: str
) -> None:
    body = "{customer_full_name}/{customer_name}"
    assert render(body, first_name=first, last_name=last, phone=PHONE) == f"{full}/{full}"


def test_empty_first_and_last_name_render_empty() -> None:
    text = render(
        "[{customer_first_name}][{customer_last_name}]", first_name=None, last_name="", phone=PHONE
    )
    assert text == "[][]"


def test_unknown_and_malformed_codes_are_left_as_written() -> None:
    body = "Hi {customer_nickname}, {Customer_Name} { customer_name } {customer_name"
    assert render(body, first_name="Ana", last_name=None, phone=PHONE) == body


def test_substituted_values_are_not_expanded_again() -> None:
    text = render(
        "Hi {customer_first_name}", first_name="{customer_phone}", last_name=None, phone=PHONE
    )
    assert text == "Hi {customer_phone}"


def test_unknown_shortcodes_lists_distinct_tokens_in_order() -> None:
    body = "{customer_name} {coupon} {Customer_Name} {coupon} {} { spaced } {appointment_date}"
    assert unknown_shortcodes(body) == ["{coupon}", "{Customer_Name}", "{appointment_date}"]
    assert unknown_shortcodes(" ".join("{" + code + "}" for code in SHORTCODES)) == []


# --- segments -----------------------------------------------------------------------------


def test_gsm7_tables_are_complete() -> None:
    # 128 code points minus the ESC placeholder; 9 extension characters plus form feed.
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),
        ("€" * 81, 2),
        (EMOJI * 35, 1),
        (EMOJI * 36, 2),
        ("ç" * 70, 1),
        ("ç" * 71, 2),
        ("", 0),
    ],
)
def test_segment_boundaries(text: str, segments: int) -> None:
    assert count_segments(text).segments == segments


@pytest.mark.parametrize("char", ["ç", "á", "`", NBSP, RIGHT_QUOTE, EMOJI])
def test_characters_outside_gsm7_force_ucs2(char: str) -> None:
    info = count_segments(f"Hello {char} there {char}")
    assert info.encoding == "UCS-2"
    assert info.ucs2_chars == [char]
    assert info.per_segment == 70


@pytest.mark.parametrize("char", ["Ç", "é", "ñ", "ü", "ø", "ì", "@", "£", "Δ", "\n"])
def test_gsm7_characters_stay_gsm7(char: str) -> None:
    info = count_segments(char * 160)
    assert info == SegmentInfo("GSM-7", 160, 1, 160, [])


def test_extension_characters_cost_two_septets() -> None:
    assert count_segments("^{}\\[]~|€\f").units == 20
    assert count_segments("a" * 158 + "€").segments == 1
    assert count_segments("a" * 159 + "€").segments == 2


def test_escape_pairs_and_surrogates_are_not_split_across_parts() -> None:
    # 152 septets then one 2-septet char: the pair moves whole to part 2 (153 would split it).
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3
    assert count_segments("a" * 151 + "€" + "a" * 153).segments == 2
    # 66 units then one emoji: it cannot straddle the 67-unit boundary.
    info = count_segments("ç" * 66 + EMOJI + "ç" * 66)
    assert (info.units, info.segments) == (134, 3)


def test_ucs2_chars_are_distinct_in_order_of_first_appearance() -> None:
    info = count_segments(f"á{RIGHT_QUOTE}abcá{EMOJI}")
    assert info.ucs2_chars == ["á", RIGHT_QUOTE, EMOJI]
    assert info.units == 8


def test_max_body_chars_matches_twilio() -> None:
    assert MAX_BODY_CHARS == 1600


# --- the counter against a literal reading of the rules -----------------------------------


def _literal_count(text: str) -> tuple[str, int, int, list[str]]:
    """The rules one character at a time (the counter's first version): any character
    outside GSM-7 makes it UCS-2; extension characters and astral ones cost 2 units; a part
    never splits a 2-unit character."""
    ucs2 = list(dict.fromkeys(c for c in text if c not in GSM7_BASIC | GSM7_EXTENSION))
    if ucs2:
        costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, multi = 70, 67
    else:
        costs = [2 if c in GSM7_EXTENSION else 1 for c in text]
        single, multi = 160, 153
    units = sum(costs)
    if units <= single:
        return ("UCS-2" if ucs2 else "GSM-7"), units, (1 if units else 0), ucs2
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments, used = segments + 1, 0
        used += cost
    return ("UCS-2" if ucs2 else "GSM-7"), units, segments, ucs2


_ALPHABET = "aZ0 .,'\n" + "€^{}[]~|\\\f" + "éçá" + RIGHT_QUOTE + NBSP + EMOJI + "\U0001f338"


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=700))
def test_fast_counter_agrees_with_the_literal_rules(text: str) -> None:
    info = count_segments(text)
    assert (info.encoding, info.units, info.segments, info.ucs2_chars) == _literal_count(text)


@pytest.mark.parametrize("size", range(60, 460, 7))
@pytest.mark.parametrize("filler", ["a", "€", "ç", EMOJI, "a€", "ç" + EMOJI])
def test_fast_counter_agrees_at_every_part_boundary(size: int, filler: str) -> None:
    text = (filler * size)[:size]
    info = count_segments(text)
    assert (info.encoding, info.units, info.segments, info.ucs2_chars) == _literal_count(text)
