"""Properties of the phone number parser: never raises, an extension never changes the number it follows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crm_core.phone_numbers import NumberStatus, normalize_number

MARKS = ("доб.", "доб", "добавочный", "вн.", "внутр.", "доп.", "ext.", "ext", "x", "#", ", доб.", "(доб.")
national = st.text("0123456789", min_size=9, max_size=9).map(lambda rest: "9" + rest)
forms = st.sampled_from(
    ("8{}", "+7{}", "8 ({0[0]}{0[1]}{0[2]}) {0[3]}{0[4]}{0[5]}-{0[6]}{0[7]}-{0[8]}{0[9]}")
)


@given(st.text(max_size=80))
def test_never_raises_and_a_number_always_has_e164(raw: str) -> None:
    number = normalize_number(raw)
    assert (number.e164 is not None) == (number.status in (NumberStatus.VALID, NumberStatus.POSSIBLE))
    assert number.extension is None or (number.e164 is not None and number.extension.isdigit())


@given(national, forms, st.sampled_from(MARKS), st.text("0123456789", min_size=1, max_size=6))
def test_an_extension_is_split_off_and_the_number_is_unchanged(
    digits: str, form: str, mark: str, extension: str
) -> None:
    written = form.format(digits)
    plain = normalize_number(written)
    closing = ")" if mark.startswith("(") else ""
    with_extension = normalize_number(f"{written} {mark} {extension}{closing}")
    assert (with_extension.e164, with_extension.status) == (plain.e164, plain.status)
    assert with_extension.extension == (extension if plain.e164 else None)


@given(national, st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=3))
def test_latin_letters_in_the_number_are_refused(digits: str, letters: str) -> None:
    assert normalize_number(f"8{digits[:4]}{letters}{digits[4:]}").status is NumberStatus.INVALID
