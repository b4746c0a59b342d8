"""handlers.params: pure parameter parsing and validation, without WSGI."""
from urllib.parse import parse_qsl, quote

import pytest
from hypothesis import example, given, settings, strategies as st

from errors import InvalidEncoding, InvalidParam
from handlers.params import parse_query_string, text_param

# Query strings as a WSGI server hands them over: bytes as latin-1, with escapes of every kind.
PIECES = st.one_of(
    st.sampled_from(["&", "=", "+", "%", "%2", "%zz", "%41", "%C3%A9", "%ED%95%9C", "%EC%84", "%B8",
                     "%ff", "%80", "%E2%82%AC", "%F0%9F%98%80", "q", "page", " ", ";"]),
    st.text(alphabet=st.characters(max_codepoint=255), max_size=4),
    st.text(max_size=3).map(lambda text: quote(text, safe="")),
)
QUERY_STRINGS = st.lists(PIECES, max_size=12).map("".join)


def stdlib_pairs(query_string):
    try:
        return parse_qsl(query_string, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return "invalid"


def our_pairs(query_string):
    try:
        return parse_query_string(query_string)
    except InvalidEncoding:
        return "invalid"


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(QUERY_STRINGS)
@example("q=%EC%84%B8%EC%A2%85%EB%8C%80%EB%A1%9C+110&page=2")
@example("q=%EC%84x%B8")           # a character cut by a plain byte
@example("a&&b=&=c&d==e")
def test_query_strings_parse_exactly_as_parse_qsl_does(query_string):
    assert our_pairs(query_string) == stdlib_pairs(query_string)


def test_bytes_that_are_not_utf8_are_a_400():
    with pytest.raises(InvalidEncoding):
        parse_query_string("q=%ff%fe")


@pytest.mark.parametrize("value", ["a\x00b", "ab\u200b", "ab\ud800", "a\x7fb", "탭\t\x01"])
def test_control_format_and_surrogate_characters_are_refused(value):
    with pytest.raises(InvalidParam, match="control characters"):
        text_param({"q": value}, "q", 2, 80)


@pytest.mark.parametrize("value, expected", [("  세종대로 \u3000 110 ", "세종대로 110"),
                                             ("\u1109\u1166\u110c\u1169\u11bc", "세종"),
                                             ("a\u00a0b", "a b")])
def test_whitespace_is_collapsed_and_text_normalized(value, expected):
    assert text_param({"q": value}, "q", 2, 80) == expected
