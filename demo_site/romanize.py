"""Revised Romanization of Korean place names (the common rules, enough for road and area names)."""

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3

INITIALS = ["g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj",
            "ch", "k", "t", "p", "h"]
VOWELS = ["a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo",
          "u", "wo", "we", "wi", "yu", "eu", "ui", "i"]
# Final consonant before a consonant or at the end of a word.
FINALS = ["", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l",
          "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t"]
# Final consonant carried over to a following vowel (연음).
FINALS_BEFORE_VOWEL = ["", "g", "kk", "gs", "n", "nj", "n", "d", "r", "lg", "lm", "lb", "ls",
                       "lt", "lp", "r", "m", "b", "bs", "s", "ss", "ng", "j", "ch", "k", "t",
                       "p", ""]

INITIAL_RIEUL, INITIAL_NIEUN, INITIAL_MIEUM, INITIAL_SILENT = 5, 2, 6, 11
FINAL_K, FINAL_N, FINAL_T, FINAL_L, FINAL_M, FINAL_P, FINAL_NG = 1, 4, 7, 8, 16, 17, 21


def _decompose(char):
    code = ord(char) - HANGUL_FIRST
    return code // 588, (code % 588) // 28, code % 28


def romanize(text):
    """Romanize one word of Hangul; other characters pass through unchanged."""
    syllables = [_decompose(c) if HANGUL_FIRST <= ord(c) <= HANGUL_LAST else c for c in text]
    out = []
    for index, syllable in enumerate(syllables):
        if isinstance(syllable, str):
            out.append(syllable)
            continue
        initial, vowel, final = syllable
        previous = syllables[index - 1] if index > 0 else None
        following = syllables[index + 1] if index + 1 < len(syllables) else None
        previous_final = previous[2] if isinstance(previous, tuple) else 0

        if initial == INITIAL_SILENT and previous_final not in (0, FINAL_NG):
            onset = ""  # the previous final was carried over
        elif initial == INITIAL_RIEUL and previous_final in (FINAL_N, FINAL_L):
            onset = "l"  # 신라 Silla, 별래 Byeollae
        elif initial == INITIAL_RIEUL and previous_final:
            onset = "n"  # 종로 Jongno, 심라 Simna
        else:
            onset = INITIALS[initial]

        coda = FINALS[final]
        if isinstance(following, tuple) and final:
            next_initial = following[0]
            if next_initial == INITIAL_SILENT and final != FINAL_NG:
                coda = FINALS_BEFORE_VOWEL[final]
            elif next_initial == INITIAL_RIEUL and final == FINAL_N:
                coda = "l"
            elif next_initial in (INITIAL_NIEUN, INITIAL_MIEUM, INITIAL_RIEUL):
                coda = {"k": "ng", "t": "n", "p": "m"}.get(coda, coda)
        out.append(onset + VOWELS[vowel] + coda)
    return "".join(out)


def capitalize(word):
    return word[:1].upper() + word[1:]


# Longest first, so "대로" wins over "로".
AREA_SUFFIXES = (("특별자치시", "si"), ("시", "si"), ("군", "gun"), ("구", "gu"),
                 ("읍", "eup"), ("면", "myeon"), ("동", "dong"), ("리", "ri"), ("가", "ga"))
ROAD_SUFFIXES = (("대로", "daero"), ("로", "ro"), ("길", "gil"))


def _split_suffix(name, suffixes):
    for korean, roman in suffixes:
        if name.endswith(korean) and len(name) > len(korean):
            return name[: -len(korean)], roman
    return name, ""


def _trailing_digits(text):
    return text[len(text.rstrip("0123456789")):]


def _is_hangul(char):
    return HANGUL_FIRST <= ord(char) <= HANGUL_LAST


def _stem_with_number(stem):
    """'역삼1' -> ('Yeoksam', '1'): romanized letters, trailing digits kept apart after Hangul only."""
    digits = _trailing_digits(stem)
    letters = stem[: len(stem) - len(digits)]
    if not letters or not _is_hangul(letters[-1]):
        return capitalize(romanize(stem)), ""  # '4.19' stays one piece
    return capitalize(romanize(letters)), digits


def area_english(name):
    """'강남구' -> 'Gangnam-gu', '역삼1동' -> 'Yeoksam1-dong'."""
    stem, suffix = _split_suffix(name, AREA_SUFFIXES)
    letters, digits = _stem_with_number(stem)
    return f"{letters}{digits}-{suffix}" if suffix else letters + digits


def road_english(name):
    """'세종대로' -> 'Sejong-daero', '중앙로12번길' -> 'Jungang-ro 12beon-gil', '테헤란로4길' -> 'Teheran-ro 4-gil'."""
    if "번길" in name:
        main, _, rest = name.partition("번길")
        number = _trailing_digits(main)
        main_road = main[: len(main) - len(number)]
        return f"{road_english(main_road)} {number}beon-gil"
    stem, suffix = _split_suffix(name, ROAD_SUFFIXES)
    letters, digits = _stem_with_number(stem)
    if digits:
        base = stem[: len(stem) - len(digits)]
        # A numbered side road names its main road: '테헤란로4길' -> 'Teheran-ro 4-gil'.
        if _split_suffix(base, ROAD_SUFFIXES)[1]:
            letters = road_english(base)
        return f"{letters} {digits}-{suffix}"
    return f"{letters}-{suffix}" if suffix else letters
