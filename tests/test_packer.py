"""Tests of the C command packer (``redis_native._native.pack_command``).

Expected bytes are written out by hand, and a hypothesis property compares the
packer with an independent pure-Python packer of redis-py's encoding rules.
"""
from __future__ import annotations

import array
import enum
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redis_native import _native
from redis_native import exceptions as exc

pack = _native.pack_command


def resp(*words):
    """RESP multibulk of already-encoded words."""
    out = [b"*%d\r\n" % len(words)]
    for w in words:
        out.append(b"$%d\r\n%s\r\n" % (len(w), w))
    return b"".join(out)


# ---------------------------------------------------------------------------
# independent reference packer (redis-py 7.4 Encoder + PythonRespSerializer)


def ref_encode(value, encoding, errors):
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, bool):
        raise exc.DataError("Invalid input of type: 'bool'. "
                            "Convert to a bytes, string, int or float first.")
    if isinstance(value, (int, float)):
        return repr(value).encode("utf-8")
    if isinstance(value, str):
        return value.encode(encoding, errors)
    raise exc.DataError(f"Invalid input of type: '{type(value).__name__}'. "
                        "Convert to a bytes, string, int or float first.")


def ref_pack(*args, encoding="utf-8", errors="strict"):
    first, rest = args[0], list(args[1:])
    if isinstance(first, str):
        head = first.encode("utf-8").split()
    elif isinstance(first, bytes) and b" " in first:
        head = first.split()
    else:
        head = [first]
    return resp(*[ref_encode(a, encoding, errors) for a in head + rest])


# ---------------------------------------------------------------------------
# strings and bytes


def test_simple_command():
    assert pack("SET", "key", "value") == b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
    assert pack("PING") == b"*1\r\n$4\r\nPING\r\n"


def test_empty_arguments():
    assert pack("SET", "", b"") == resp(b"SET", b"", b"")


def test_unicode():
    assert pack("SET", "k\u00e9", "\u65e5\u672c") == resp(b"SET", "k\u00e9".encode(), "\u65e5\u672c".encode())
    assert pack("SET", "\U0001f600") == resp(b"SET", b"\xf0\x9f\x98\x80")


def test_other_encodings():
    assert pack("SET", "\u00e9", encoding="latin-1") == resp(b"SET", b"\xe9")
    assert pack("SET", "ab", encoding="utf-16") == resp(b"SET", "ab".encode("utf-16"))
    assert pack("SET", "\u65e5", encoding="ascii", errors="replace") == resp(b"SET", b"?")
    assert pack("SET", "a\u65e5", encoding="ascii", errors="ignore") == resp(b"SET", b"a")
    assert pack("SET", "\u00e9", encoding="UTF8") == resp(b"SET", b"\xc3\xa9")


def test_encode_errors_raise():
    with pytest.raises(UnicodeEncodeError):
        pack("SET", "\u65e5", encoding="ascii")
    with pytest.raises(UnicodeEncodeError):
        pack("SET", "\ud800")
    assert pack("SET", "\ud800", errors="surrogatepass") == resp(b"SET", b"\xed\xa0\x80")
    with pytest.raises(LookupError):
        pack("SET", "x", encoding="no-such-codec")


def test_str_subclass():
    class S(str):
        def __str__(self):
            return "nope"

    assert pack("SET", S("val\u00e9")) == resp(b"SET", "val\u00e9".encode())


def test_bytes_as_is():
    blob = bytes(range(256)) + b"\r\n"
    assert pack(b"SET", b"k", blob) == resp(b"SET", b"k", blob)

    class B(bytes):
        pass

    assert pack("SET", B(b"x y")) == resp(b"SET", b"x y")


def test_large_argument():
    big = b"x" * (10 * 1024 * 1024 + 7)
    out = pack("SET", "k", big)
    assert out == resp(b"SET", b"k", big)


def test_many_arguments():
    args = ["k%d" % i for i in range(10000)]
    assert pack("MGET", *args) == resp(b"MGET", *[a.encode() for a in args])


# ---------------------------------------------------------------------------
# memoryview


def test_memoryview():
    assert pack("SET", memoryview(b"abc")) == resp(b"SET", b"abc")
    assert pack("SET", memoryview(b"xabcx")[1:-1]) == resp(b"SET", b"abc")
    assert pack("SET", memoryview(bytearray(b"ba"))) == resp(b"SET", b"ba")
    assert pack("SET", memoryview(b"")) == resp(b"SET", b"")


def test_memoryview_of_wide_items_sends_all_bytes():
    a = array.array("i", [1, 2, 3])
    assert pack("SET", memoryview(a)) == resp(b"SET", a.tobytes())
    m = memoryview(bytes(range(12))).cast("B", (3, 4))
    assert pack("SET", m) == resp(b"SET", bytes(range(12)))


def test_memoryview_not_contiguous():
    with pytest.raises(BufferError):
        pack("SET", memoryview(b"abcdef")[::2])


def test_released_memoryview():
    m = memoryview(b"abc")
    m.release()
    with pytest.raises(ValueError):
        pack("SET", m)


# ---------------------------------------------------------------------------
# numbers


@pytest.mark.parametrize("value,text", [
    (0, b"0"), (1, b"1"), (-1, b"-1"), (10, b"10"),
    (2**63 - 1, b"9223372036854775807"),
    (-(2**63), b"-9223372036854775808"),
    (2**63, b"9223372036854775808"),
    (-(2**63) - 1, b"-9223372036854775809"),
    (2**64, b"18446744073709551616"),
    (10**100, b"1" + b"0" * 100),
    (-(10**100), b"-1" + b"0" * 100),
])
def test_int(value, text):
    assert pack("SET", value) == resp(b"SET", text)


@pytest.mark.parametrize("value,text", [
    (0.0, b"0.0"), (-0.0, b"-0.0"), (1.0, b"1.0"), (0.1, b"0.1"), (2.5, b"2.5"),
    (-3.25, b"-3.25"), (1e100, b"1e+100"), (1e-100, b"1e-100"), (1e16, b"1e+16"),
    (123456789.0, b"123456789.0"), (float("inf"), b"inf"), (float("-inf"), b"-inf"),
    (float("nan"), b"nan"), (1 / 3, b"0.3333333333333333"),
])
def test_float(value, text):
    assert pack("SET", value) == resp(b"SET", text)


def test_int_subclass_uses_repr():
    class Color(enum.IntEnum):
        RED = 1

    class Fancy(int):
        def __repr__(self):
            return "fancy\u00e9"

        def __str__(self):
            return "not used"

    assert pack("SET", Color.RED) == resp(b"SET", repr(Color.RED).encode())
    assert pack("SET", Fancy(3)) == resp(b"SET", "fancy\u00e9".encode())


def test_float_subclass_uses_repr():
    class F(float):
        def __repr__(self):
            return "F!"

    assert pack("SET", F(1.5)) == resp(b"SET", b"F!")


def test_repr_that_raises():
    class Bad(int):
        def __repr__(self):
            raise KeyError("nope")

    with pytest.raises(KeyError):
        pack("SET", Bad(1))


# ---------------------------------------------------------------------------
# DataError


def data_error_message(name):
    return f"Invalid input of type: '{name}'. Convert to a bytes, string, int or float first."


class Custom:
    pass


@pytest.mark.parametrize("value,name", [
    (True, "bool"), (False, "bool"), (None, "NoneType"), ({}, "dict"), ([], "list"),
    ((), "tuple"), (bytearray(b"x"), "bytearray"), (set(), "set"), (1j, "complex"),
    (Custom(), "Custom"), (object(), "object"),
])
def test_data_error(value, name):
    with pytest.raises(exc.DataError) as info:
        pack("SET", "k", value)
    assert str(info.value) == data_error_message(name)
    assert info.value.args == (data_error_message(name),)


def test_data_error_in_first_position():
    with pytest.raises(exc.DataError, match="'NoneType'"):
        pack(None)
    with pytest.raises(exc.DataError, match="'bytearray'"):
        pack(bytearray(b"GET x"))


def test_no_arguments():
    with pytest.raises(TypeError):
        pack()


# ---------------------------------------------------------------------------
# first argument splitting


def test_split_str_command():
    assert pack("CONFIG GET", "maxmemory") == resp(b"CONFIG", b"GET", b"maxmemory")
    assert pack("  CLIENT   LIST  ") == resp(b"CLIENT", b"LIST")
    # str.encode().split(): every run of ASCII whitespace, not only spaces
    assert pack("A\tB\nC\r\x0bD\x0cE", "x") == resp(b"A", b"B", b"C", b"D", b"E", b"x")
    # but not Unicode whitespace (split happens on the UTF-8 bytes)
    assert pack("A\u00a0B") == resp("A\u00a0B".encode())
    assert pack("GET") == resp(b"GET")


def test_split_str_command_is_utf8_whatever_the_encoding():
    assert pack("\u00e9 X", "\u00e9", encoding="latin-1") == resp(b"\xc3\xa9", b"X", b"\xe9")


def test_empty_str_command():
    # redis-py sends what str.split() leaves
    assert pack("") == b"*0\r\n"
    assert pack("   ", "x") == resp(b"x")


def test_split_bytes_command_only_with_a_space():
    assert pack(b"CONFIG GET", b"x") == resp(b"CONFIG", b"GET", b"x")
    assert pack(b"A B\tC") == resp(b"A", b"B", b"C")
    assert pack(b"A\tB") == resp(b"A\tB")
    assert pack(b"") == resp(b"")


def test_no_split_for_other_types_or_later_args():
    assert pack(memoryview(b"A B")) == resp(b"A B")
    assert pack("SET", "a b", b"c d") == resp(b"SET", b"a b", b"c d")
    assert pack(5, "x") == resp(b"5", b"x")


# ---------------------------------------------------------------------------
# keyword arguments of the module function


def test_keywords():
    assert pack("SET", "\u00e9", encoding="latin-1", errors="strict") == resp(b"SET", b"\xe9")
    with pytest.raises(TypeError):
        pack("SET", "x", bogus=1)


# ---------------------------------------------------------------------------
# property: C packer == reference packer


class MyInt(int):
    pass


class MyStr(str):
    pass


scalars = st.one_of(
    st.text(max_size=20),
    st.binary(max_size=20),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.binary(max_size=20).map(memoryview),
    st.integers(-1000, 1000).map(MyInt),
    st.text(max_size=10).map(MyStr),
)
commands = st.one_of(
    st.text(alphabet=st.sampled_from("ABC xyz\t\n\r\x0b\x0c\u00e9\u00a0"), max_size=12),
    st.binary(max_size=12),
    st.sampled_from(["GET", "CONFIG GET", b"CLIENT LIST", "SET"]),
)


def same_packing(args, **kw):
    try:
        want = ref_pack(*args, **kw)
    except (exc.DataError, UnicodeError) as e:
        with pytest.raises(type(e)) as info:
            pack(*args, **kw)
        assert str(info.value) == str(e)
        return
    assert pack(*args, **kw) == want


@settings(max_examples=500, deadline=None)
@given(cmd=commands, args=st.lists(scalars, max_size=6))
def test_property_utf8(cmd, args):
    same_packing([cmd] + args)


@settings(max_examples=300, deadline=None)
@given(cmd=commands, args=st.lists(scalars, max_size=6),
       codec=st.sampled_from([("latin-1", "strict"), ("latin-1", "replace"),
                              ("ascii", "ignore"), ("utf-16-le", "strict"),
                              ("utf-8", "surrogateescape"), ("utf-8", "strict")]))
def test_property_encodings(cmd, args, codec):
    same_packing([cmd] + args, encoding=codec[0], errors=codec[1])


@settings(max_examples=200, deadline=None)
@given(args=st.lists(st.one_of(scalars, st.sampled_from([None, True, 1j, bytearray()])),
                     min_size=1, max_size=5))
def test_property_with_invalid_values(args):
    same_packing(["SET"] + args)


def test_float_repr_roundtrip_sample():
    for x in [math.pi, -math.e, 5e-324, 1.7976931348623157e308, 1e22, 1e21, 123e-20]:
        assert pack(x) == resp(repr(x).encode())
