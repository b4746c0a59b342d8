"""Request parameters from values already read (the query string, a body's bytes, its media
type): pure functions that parse and validate them, and raise the contract's 400s and 415."""
import json
import re
import unicodedata
from urllib.parse import unquote_to_bytes

from errors import InvalidEncoding, InvalidJson, InvalidParam, UnsupportedMediaType
from responses import JSON_TYPE
from scraper.address import ID_PATTERN

DIGITS = re.compile(r"[0-9]{1,6}")
FORM_TYPE = "application/x-www-form-urlencoded"


# Own parsing, not webob's: request.GET also splits at ";" and fails on text beyond latin-1
# (Request.blank), request.POST turns bytes that are not UTF-8 into U+FFFD; the contract makes
# both 400, and a repeated parameter too (params_from_pairs).

# Runs of percent-escapes: every byte of a multi-byte UTF-8 character is escaped (none is plain
# ASCII), so a character never spans two runs and each run decodes on its own.
PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _decode_run(match):
    return bytes.fromhex(match.group().replace("%", "")).decode("utf-8")


def _unquote_plus(text):
    text = text.replace("+", " ")
    if not text.isascii():
        # Raw bytes, which a WSGI string carries as latin-1, are UTF-8 like the escapes. A
        # character beyond latin-1 means a caller that passed text (webob's Request.blank).
        try:
            raw = text.encode("latin-1")
        except UnicodeEncodeError:
            raw = text.encode("utf-8", "surrogatepass")
        return unquote_to_bytes(raw).decode("utf-8")
    return PERCENT_RUN.sub(_decode_run, text) if "%" in text else text


def parse_query_string(query_string):
    """Pairs from a query string or form body given as WSGI gives strings (bytes as latin-1),
    exactly as urllib.parse.parse_qsl(..., keep_blank_values=True) on those bytes, decoded as
    strict UTF-8, gives them (tests compare the two), at a third of its cost; bytes that are
    not UTF-8, raw or %-escaped, are a 400."""
    pairs = []
    try:
        for field in query_string.split("&") if query_string else ():
            if field:
                name, _, value = field.partition("=")
                pairs.append((_unquote_plus(name), _unquote_plus(value)))
    except UnicodeError:
        raise InvalidEncoding("the parameters are not valid UTF-8") from None
    return pairs


def params_from_pairs(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise InvalidParam(f"{key} is given more than once", field=key)
        seen[key] = value
    return seen


class _JsonObject(list):
    """The (key, value) pairs of a JSON object, kept as pairs so duplicate keys can be seen."""


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def _parse_int(digits):
    try:
        return int(digits)
    except ValueError:      # longer than Python converts (sys.get_int_max_str_digits())
        raise InvalidJson(f"a number in the body is too long ({len(digits.lstrip('-'))} digits)") from None


def params_from_json(body):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEncoding("the body is not valid UTF-8") from None
    try:
        value = json.loads(text, object_pairs_hook=_JsonObject, parse_constant=_reject_constant,
                           parse_int=_parse_int)
    except (ValueError, RecursionError):
        raise InvalidJson() from None
    if type(value) is not _JsonObject:
        raise InvalidJson("the body must be a JSON object")
    return params_from_pairs(value)


def params_from_body(media_type, body):
    """The parameters of a body of `media_type` (lower-case, without parameters)."""
    if media_type == JSON_TYPE:
        return params_from_json(body)
    if media_type == FORM_TYPE:
        return params_from_pairs(parse_query_string(body.decode("latin-1")))
    raise UnsupportedMediaType()


# Full-width forms of ASCII (a Korean keyboard's full-width mode: １１０, Ｓｅｏｕｌ) as ASCII.
FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def text_param(params, name, low, high):
    if name not in params:
        raise InvalidParam(f"{name} is required", field=name)
    value = params[name]
    if not isinstance(value, str):
        raise InvalidParam(f"{name} must be a string", field=name)
    # isprintable() is false for every Cc, Cf and Cs character (and for other whitespace):
    # only then is the slower look at each character needed. What pasting brings along (tabs,
    # newlines, zero-width spaces, bidi marks, a BOM, soft hyphens) is forgiven; NUL and the like
    # are not.
    if not value.isprintable():
        value = "".join(ch for ch in value if unicodedata.category(ch) != "Cf")
        if any(unicodedata.category(ch) in ("Cc", "Cs") and not ch.isspace() for ch in value):
            raise InvalidParam(f"{name} must not contain control characters", field=name)
    value = unicodedata.normalize("NFC", " ".join(value.translate(FULL_WIDTH).split()))
    if not low <= len(value) <= high:
        raise InvalidParam(f"{name} must be {low} to {high} characters", field=name)
    return value


def int_param(params, name, default, low, high):
    if name not in params:
        return default
    value = params[name]
    if isinstance(value, str) and DIGITS.fullmatch(value):
        value = int(value)
    elif type(value) is not int:      # bool is an int subclass; true is not a page number
        raise InvalidParam(f"{name} must be a whole number", field=name)
    if not low <= value <= high:
        raise InvalidParam(f"{name} must be {low} to {high}", field=name)
    return value


def search_params(params):
    """(q, page, per_page) for /searchaddr1."""
    return (text_param(params, "q", 2, 80),
            int_param(params, "page", 1, 1, 100),
            int_param(params, "per_page", 10, 1, 50))


def detail_params(params):
    """The id for /searchaddr2."""
    if "id" not in params:
        raise InvalidParam("id is required", field="id")
    value = params["id"]
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise InvalidParam("id must be 1 to 64 characters of A-Z a-z 0-9 _ -", field="id")
    return value
