"""handlers.params: pure parameter parsing and validation, without WSGI."""
from urllib.parse import parse_qsl, quote, unquote_to_bytes

import pytest
from hypothesis import example, given, settings, strategies as st

from errors import InvalidEncoding, InvalidJson, InvalidParam
from errors import PayloadTooLarge
from handlers.body import read_body, read_chunked
from handlers.params import params_from_body, parse_query_string, text_param

# Query strings as a WSGI server hands them over: bytes as latin-1, with escapes of every kind.
PIECES = st.one_of(
    st.sampled_from(["&", "=", "+", "%", "%2", "%zz", "%41", "%C3%A9", "%ED%95%9C", "%EC%84", "%B8",
                     "%ff", "%80", "%E2%82%AC", "%F0%9F%98%80", "q", "page", " ", ";"]),
    st.text(alphabet=st.characters(max_codepoint=255), max_size=4),
    st.text(max_size=3).map(lambda text: quote(text, safe="")),
)
QUERY_STRINGS = st.lists(PIECES, max_size=12).map("".join)


def stdlib_pairs(query_string):
    """What parse_qsl gives for the bytes the string carries, each name and value then decoded
    as strict UTF-8 (parse_qsl itself takes raw bytes beyond ASCII only as text)."""
    pairs = []
    try:
        for field in query_string.encode("latin-1").split(b"&"):
            if field:
                name, _, value = field.partition(b"=")
                pairs.append(tuple(unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
                                   for part in (name, value)))
    except UnicodeDecodeError:
        return "invalid"
    ascii_only = query_string.isascii()
    assert not ascii_only or pairs == parse_qsl(query_string, keep_blank_values=True,
                                                encoding="utf-8", errors="strict")
    return pairs


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
@example("q=ab\xe9")                # a raw byte that is not UTF-8
@example("q=\xec\x84%B8")           # raw bytes and escapes of one character
def test_query_strings_parse_exactly_as_parse_qsl_does(query_string):
    assert our_pairs(query_string) == stdlib_pairs(query_string)


def test_bytes_that_are_not_utf8_are_a_400():
    with pytest.raises(InvalidEncoding):
        parse_query_string("q=%ff%fe")


def test_raw_bytes_that_are_not_utf8_are_a_400_not_latin1_text():
    # ?q=ab\xE9 as a WSGI server hands it over: the byte as the latin-1 character "é".
    with pytest.raises(InvalidEncoding):
        parse_query_string("q=ab\xe9")
    assert parse_query_string("세종대로".encode().decode("latin-1").join(["q=", "+110"])) == [("q", "세종대로 110")]


def test_form_bodies_are_utf8_bytes():
    assert params_from_body("application/x-www-form-urlencoded", "q=세종대로&page=2".encode()) == \
        {"q": "세종대로", "page": "2"}
    with pytest.raises(InvalidEncoding):
        params_from_body("application/x-www-form-urlencoded", b"q=ab\xe9")


def chunks(*parts):
    pending = list(parts)

    def next_chunk(wait):
        if pending and isinstance(pending[0], Exception):
            raise pending.pop(0)
        return pending.pop(0) if pending else b""
    return next_chunk


def test_a_chunked_body_is_read_to_its_end_and_never_past_the_limit():
    assert read_chunked(chunks(b'{"q": ', b'"ab"}')) == b'{"q": "ab"}'
    with pytest.raises(PayloadTooLarge):
        read_chunked(chunks(b"x" * 10000, b"x" * 10000, b"never read"))
    with pytest.raises(InvalidParam, match="chunked"):
        read_chunked(chunks(b"{", OSError("timeout")))


def test_a_body_a_server_already_dechunked_is_read_from_wsgi_input():
    import io
    environ = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True,
               "wsgi.input": io.BytesIO(b'{"q": "ab"}')}
    assert read_body(environ) == b'{"q": "ab"}'


@pytest.mark.parametrize("value", ["a\x00b", "ab\ud800", "a\x7fb", "탭\t\x01", "ab\u200b\x1b"])
def test_control_format_and_surrogate_characters_are_refused(value):
    with pytest.raises(InvalidParam, match="control characters"):
        text_param({"q": value}, "q", 2, 80)


@pytest.mark.parametrize("value, expected", [("  세종대로 \u3000 110 ", "세종대로 110"),
                                             ("\u1109\u1166\u110c\u1169\u11bc", "세종"),
                                             ("a\u00a0b", "a b")])
def test_whitespace_is_collapsed_and_text_normalized(value, expected):
    assert text_param({"q": value}, "q", 2, 80) == expected


@pytest.mark.parametrize("value, expected", [
    ("세종대로\t110\n", "세종대로 110"), ("세종대로\r\n110", "세종대로 110"),
    ("세종\u200b대로 110", "세종대로 110"), ("\ufeff세종대로 110", "세종대로 110"),
    ("\u200e세종대로 110\u200f", "세종대로 110"), ("세종\u00ad대로 110", "세종대로 110"),
    ("\u202a세종대로 110\u202c", "세종대로 110"), ("세종대로 １１０", "세종대로 110"),
    ("Ｓｅｊｏｎｇ－ｄａｅｒｏ　１１０", "Sejong-daero 110")])
def test_what_pasting_brings_along_is_forgiven(value, expected):
    assert text_param({"q": value}, "q", 2, 80) == expected


@pytest.mark.parametrize("number", ["1" * 5000, "-" + "9" * 5000])
def test_a_number_too_long_for_python_is_named_as_such(number):
    body = '{"q": "ab", "page": %s}' % number
    with pytest.raises(InvalidJson, match=r"^a number in the body is too long \(5000 digits\)$"):
        params_from_body("application/json", body.encode())
