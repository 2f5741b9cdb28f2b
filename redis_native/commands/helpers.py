"""Shared helpers for the command mixins.

``NEVER_DECODE`` and ``EMPTY_RESPONSE`` are the special ``execute_command``
options understood by the dispatcher (``redis_native.client`` re-exports
them):

* ``NEVER_DECODE``: read this reply as raw bytes even when the client decodes
  responses (DUMP, FUNCTION DUMP...);
* ``EMPTY_RESPONSE``: if the server answers with an error, return this value
  instead of raising ``ResponseError``.

The option ``keys`` is also removed by the dispatcher before the response
callback runs.
"""

from __future__ import annotations

import random
import string
import warnings
from typing import Any, Iterable, List, Optional, Tuple

from ..utils import extract_expire_flags  # one implementation, as in redis.utils
from ._types import KeysT, KeyT

NEVER_DECODE = "NEVER_DECODE"
EMPTY_RESPONSE = "EMPTY_RESPONSE"

__all__ = [
    "NEVER_DECODE",
    "EMPTY_RESPONSE",
    "list_or_args",
    "at_most_one_value_set",
    "extract_expire_flags",
    "nativestr",
    "delist",
    "parse_to_list",
    "random_string",
    "decode_dict_keys",
]


def list_or_args(keys: KeysT, args: Optional[Tuple[KeyT, ...]]) -> List[KeyT]:
    """Return a new list made of ``keys`` followed by ``args``.

    ``keys`` may be a single key (``str``/``bytes``, or any non-iterable
    value) or an iterable of keys.
    """
    if isinstance(keys, (bytes, str)):
        result = [keys]
    else:
        try:
            result = list(keys)
        except TypeError:
            result = [keys]
    if args:
        result.extend(args)
    return result


def at_most_one_value_set(iterable: Iterable[Any]) -> bool:
    """True when no more than one of the values is truthy."""
    return sum(1 for value in iterable if value) <= 1


def expiry_condition_flags(nx: bool, xx: bool, gt: bool, lt: bool) -> List[str]:
    """The NX / XX / GT / LT modifiers of the EXPIRE family, in that order."""
    flags = []
    if nx:
        flags.append("NX")
    if xx:
        flags.append("XX")
    if gt:
        flags.append("GT")
    if lt:
        flags.append("LT")
    return flags


# --------------------------------------------------------------------------
# warnings with redis-py's wording
# --------------------------------------------------------------------------


def warn_deprecated(name: str, reason: str = "", version: str = "", stacklevel: int = 3) -> None:
    """Emit redis-py's DeprecationWarning for the method ``name``."""
    message = f"Call to deprecated {name}."
    if reason:
        message += f" ({reason})"
    if version:
        message += f" -- Deprecated since version {version}."
    warnings.warn(message, category=DeprecationWarning, stacklevel=stacklevel)


def warn_experimental(name: str, stacklevel: int = 3) -> None:
    """Emit redis-py's UserWarning for an experimental method."""
    warnings.warn(
        f"Call to experimental method {name}. Be aware that the function "
        "arguments can change or be removed in future versions.",
        category=UserWarning,
        stacklevel=stacklevel,
    )


def warn_experimental_arg(arg_name: str, function_name: str, stacklevel: int = 3) -> None:
    """Emit redis-py's UserWarning for an experimental argument."""
    warnings.warn(
        f"Call to '{function_name}' method with experimental usage of input "
        f"argument/s '{arg_name}'.",
        category=UserWarning,
        stacklevel=stacklevel,
    )


# --------------------------------------------------------------------------
# helpers that redis.commands.helpers exposes for the module commands
# --------------------------------------------------------------------------


def nativestr(x: Any) -> Any:
    """Decode bytes as UTF-8 (replacing bad bytes); map ``"null"`` to None."""
    text = x.decode("utf-8", "replace") if isinstance(x, bytes) else x
    return None if text == "null" else text


def delist(x: Optional[Iterable[Any]]) -> Optional[List[Any]]:
    """Apply :func:`nativestr` to every item of a list (None stays None)."""
    if x is None:
        return None
    return [nativestr(item) for item in x]


def parse_to_list(response: Optional[Iterable[Any]]) -> List[Any]:
    """Best-effort conversion of each item to int, then float, then str.

    ``None`` items stay None; "infinity", "-infinity" and "nan" (any case)
    stay strings.
    """
    result: List[Any] = []
    if response is None:
        return result
    for item in response:
        if item is None:
            result.append(None)
            continue
        try:
            text = nativestr(item)
        except TypeError:
            result.append(None)
            continue
        if isinstance(text, str) and text.lower() in ("infinity", "nan", "-infinity"):
            result.append(text)
            continue
        try:
            result.append(int(item))
        except ValueError:
            try:
                result.append(float(item))
            except ValueError:
                result.append(text)
    return result


def random_string(length: int = 10) -> str:
    """A random string of lowercase ASCII letters (not for security)."""
    return "".join(random.choice(string.ascii_lowercase) for _ in range(length))  # nosec


def decode_dict_keys(obj: dict) -> dict:
    """Copy of ``obj`` whose bytes keys are decoded as UTF-8."""
    result = obj.copy()
    for key in obj:
        if isinstance(key, bytes):
            result[key.decode("utf-8")] = result.pop(key)
    return result


def get_protocol_version(client: Any) -> Any:
    """The ``protocol`` a client was configured with (``None`` when it was not
    given): read from its pool's connection_kwargs, or from a cluster client's
    nodes manager."""
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        return pool.connection_kwargs.get("protocol")
    nodes = getattr(client, "nodes_manager", None)
    if nodes is not None:
        return nodes.connection_kwargs.get("protocol")
    return None
