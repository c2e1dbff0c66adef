"""Citizen ID numbers (GB 11643) and unified social credit codes (GB 32100)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from yiwang.core.errors import InvalidInput
from yiwang.core.ids import (
    USCC_ALPHABET,
    birth_date_of,
    is_citizen_id,
    make_citizen_id,
    make_uscc,
    mask_citizen_id,
    mask_phone,
    normalize,
    validate_citizen_id,
    validate_uscc,
)

FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}

regions = st.text(alphabet="0123456789", min_size=6, max_size=6)
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date.today())
sequences = st.integers(min_value=0, max_value=999)
citizen_ids = st.builds(make_citizen_id, regions, births, sequences)


@st.composite
def noisy(draw, number_strategy):
    """A valid number as people type it: spaces anywhere, full-width characters, lower case."""
    number = draw(number_strategy)
    out = []
    for ch in number:
        if draw(st.booleans()):
            ch = ch.lower()
        if draw(st.integers(0, 3)) == 0:
            ch = FULL_WIDTH[ch]
        out.append(ch)
        out.append(draw(st.sampled_from(["", "", "", " ", "\u3000", "\t"])))
    return number, draw(st.sampled_from(["", " ", "\u3000"])) + "".join(out) + draw(st.sampled_from(["", "\n", " "]))


def message(exc_info) -> str:
    return exc_info.value.message


# --- citizen ID -----------------------------------------------------------------------------------


@given(citizen_ids)
def test_every_made_number_validates_and_stdnum_agrees_on_the_check_digit(number):
    assert validate_citizen_id(number) == number
    assert ric.calc_check_digit(number) == number[-1]
    assert is_citizen_id(number)


@given(noisy(citizen_ids))
def test_valid_numbers_normalise_from_spaces_full_width_and_lower_case(pair):
    number, typed = pair
    assert validate_citizen_id(typed) == number


@given(citizen_ids, st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_error_is_refused(number, pos, delta):
    wrong = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    with pytest.raises(InvalidInput):
        validate_citizen_id(wrong)


def test_lower_case_x_check_digit_is_accepted():
    number = next(
        make_citizen_id("441602", dt.date(1985, 3, 9), s)
        for s in range(1000)
        if make_citizen_id("441602", dt.date(1985, 3, 9), s).endswith("X")
    )
    assert validate_citizen_id(number.lower()) == number
    assert validate_citizen_id(" ".join(number[:-1]) + " ｘ") == number


@pytest.mark.parametrize(
    "region",
    [
        "440309",  # 深圳市龙华区, created 2016: stdnum refuses it for anyone born before
        "110119",  # 北京市延庆区, created 2015
        "810000",  # 港澳台居民居住证 (Hong Kong)
        "441625",  # 河源市东源县
    ],
)
def test_numbers_stdnum_refuses_for_its_birthplace_table_are_accepted(region):
    number = make_citizen_id(region, dt.date(1990, 5, 17), 123)
    assert not ric.is_valid(number)
    assert validate_citizen_id(number) == number


@pytest.mark.parametrize(
    "value,expected",
    [
        ("", "请填写公民身份号码。"),
        ("44160219900517123", "公民身份号码应为18位，当前为17位。"),
        ("4416021990051712345", "公民身份号码应为18位，当前为19位。"),
        ("441602900517123", "这是15位的旧身份证号码，请填写18位公民身份号码。"),
        ("44160219900517123A", "公民身份号码第18位“A”不符合要求：前17位只能是数字，第18位是数字或X。"),
        ("4416021990O517123X", "公民身份号码第11位“O”不符合要求：前17位只能是数字，第18位是数字或X。"),
        ("441602199002301230", "公民身份号码第7至14位的出生日期“19900230”不是有效日期。"),
        ("441602199013011230", "公民身份号码第7至14位的出生日期“19901301”不是有效日期。"),
    ],
)
def test_citizen_id_errors_name_what_is_wrong(value, expected):
    with pytest.raises(InvalidInput) as exc:
        validate_citizen_id(value)
    assert message(exc) == expected
    assert exc.value.field == "id_number"


def test_arabic_indic_digits_are_not_digits():
    number = make_citizen_id("441602", dt.date(1990, 5, 17), 1)
    with pytest.raises(InvalidInput, match="第1位"):
        validate_citizen_id("٤" + number[1:])


def test_birth_date_in_the_future_or_before_1880_is_refused():
    future = dt.date.today() + dt.timedelta(days=2)
    with pytest.raises(InvalidInput) as exc:
        validate_citizen_id(make_citizen_id("441602", future, 1))
    assert message(exc) == f"公民身份号码中的出生日期 {future.isoformat()} 晚于今天。"
    with pytest.raises(InvalidInput) as exc:
        validate_citizen_id(make_citizen_id("441602", dt.date(1879, 12, 31), 1))
    assert message(exc) == "公民身份号码中的出生日期 1879-12-31 早于1880年。"


def test_wrong_check_digit_is_named():
    number = make_citizen_id("441602", dt.date(1990, 5, 17), 123)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(InvalidInput) as exc:
        validate_citizen_id(wrong, field="applicant_id")
    assert message(exc) == "公民身份号码最后一位校验码与前17位不符，请核对后重新输入。"
    assert exc.value.field == "applicant_id"
    assert not is_citizen_id(wrong)


def test_masking_and_birth_date():
    number = make_citizen_id("441602", dt.date(1990, 5, 17), 123)
    assert mask_citizen_id(number) == "441602********" + number[-4:]
    assert mask_citizen_id(" " + number.lower()) == mask_citizen_id(number)
    assert birth_date_of(number) == dt.date(1990, 5, 17)
    assert mask_phone("138 0013 8000") == "138****8000"


def test_normalize_handles_full_width_and_ideographic_space():
    assert normalize("４４１６０２\u3000１９９０－０５ｘ") == "441602199005X"


# --- unified social credit code -------------------------------------------------------------------

authority = st.sampled_from(USCC_ALPHABET[1:])
prefixes = st.builds(
    lambda a, t, r: a + t + r,
    authority,
    st.sampled_from(USCC_ALPHABET[1:]),
    st.text("0123456789", min_size=6, max_size=6),
)
org_codes = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)
credit_codes = st.builds(make_uscc, prefixes, org_codes)


@given(credit_codes)
def test_every_made_credit_code_validates(code):
    assert len(code) == 18
    assert validate_uscc(code) == code
    assert uscc.calc_check_digit(code[:17]) == code[17]


@given(noisy(credit_codes))
def test_credit_codes_normalise_from_spaces_full_width_and_lower_case(pair):
    code, typed = pair
    assert validate_uscc(typed) == code


def test_registration_authority_letters_that_stdnum_refuses_are_accepted():
    # 农村集体经济组织 (N2…) and 其他 (Y1…) are valid under GB 32100 but fail stdnum's validate
    for prefix in ("N2441602", "Y1441602", "A1110000"):
        code = make_uscc(prefix, "MA4UXY3K")
        assert not uscc.is_valid(code)
        assert validate_uscc(code) == code


def test_known_real_format_code():
    assert validate_uscc("91110000600037341l") == "91110000600037341L"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_forbidden_letters_are_named_with_their_position(letter):
    code = make_uscc("91441602", "MA4UXY3K")
    bad = code[:10] + letter + code[11:]
    with pytest.raises(InvalidInput) as exc:
        validate_uscc(bad)
    assert message(exc) == (
        f"统一社会信用代码第11位含有不允许的字符：{letter}（只用数字和大写字母，不使用 I、O、Z、S、V）。"
    )
    assert exc.value.field == "uscc"


@pytest.mark.parametrize(
    "value,expected",
    [
        ("", "请填写统一社会信用代码。"),
        ("91441602MA4UXY3K", "统一社会信用代码应为18位，当前为16位。"),
        ("91A41602MA4UXY3K0X", "统一社会信用代码第3至8位应为登记管理机关的行政区划码（6位数字）。"),
    ],
)
def test_credit_code_errors(value, expected):
    with pytest.raises(InvalidInput) as exc:
        validate_uscc(value)
    assert message(exc) == expected


def test_wrong_credit_code_check_character():
    code = make_uscc("91441602", "MA4UXY3K")
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(InvalidInput) as exc:
        validate_uscc(wrong)
    assert message(exc) == "统一社会信用代码最后一位校验码与前17位不符，请核对后重新输入。"
