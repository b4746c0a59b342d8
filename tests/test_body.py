"""handlers.body: a POST body's media type and bytes, read through webob without a server."""
import io

import pytest
from webob import Request

from errors import InvalidParam, PayloadTooLarge, UnsupportedMediaType
from handlers.body import MAX_BODY, media_type, read_body


def environ(body, length):
    return {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": length, "wsgi.input": io.BytesIO(body)}


def test_a_body_is_read_up_to_its_content_length_and_no_further():
    assert read_body(environ(b'{"q": "ab"}tail', "11")) == b'{"q": "ab"}'
    assert read_body(environ(b"ignored", " 0 ")) == b""
    assert read_body(environ(b"x" * MAX_BODY, str(MAX_BODY))) == b"x" * MAX_BODY
    with pytest.raises(PayloadTooLarge):
        read_body(environ(b"", str(MAX_BODY + 1)))


def test_a_body_shorter_than_its_content_length_is_a_400_not_parsed_as_far_as_it_went():
    with pytest.raises(InvalidParam, match="ended before its Content-Length"):
        read_body(environ(b'{"q": "ab"}', "100"))


@pytest.mark.parametrize("length", ["abc", "1e3", "0x10"])
def test_a_content_length_that_is_not_a_number_is_a_400(length):
    with pytest.raises(InvalidParam, match="Content-Length is not a number"):
        read_body(environ(b"{}", length))


@pytest.mark.parametrize("header, expected", [
    ("application/json", "application/json"), ("Application/JSON ; charset=UTF-8", "application/json"),
    ('application/x-www-form-urlencoded;charset="utf8"', "application/x-www-form-urlencoded"),
    ("text/plain", "text/plain"), ("", "")])
def test_the_media_type_is_compared_without_case_spaces_or_a_utf8_charset(header, expected):
    assert media_type(Request.blank("/", method="POST", content_type=header)) == expected


@pytest.mark.parametrize("header", ["application/json; charset=latin-1", "application/json; charset=euc-kr"])
def test_a_charset_other_than_utf8_is_a_415(header):
    with pytest.raises(UnsupportedMediaType, match="send UTF-8"):
        media_type(Request.blank("/", method="POST", content_type=header))
