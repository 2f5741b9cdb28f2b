"""Client library identification sent with ``CLIENT SETINFO LIB-NAME / LIB-VER``.

Same API as redis-py 7.4's ``redis.driver_info``, with one deliberate
difference: by default the library reports itself as ``redis_native`` with
redis_native's own version, so server-side ``CLIENT LIST`` shows which client
is really connected.  Pass ``DriverInfo(name="redis-py")`` (or the deprecated
``lib_name=`` argument) to report something else.

Libraries built on top of the client (an ORM cache backend, a task queue...)
register themselves with :meth:`DriverInfo.add_upstream_driver`; the name sent
then reads ``redis_native(django-redis_v5.4.0;celery_v5.3.0)``, newest first.
"""
from __future__ import annotations

import re
from typing import Any, List, Optional

from redis_native.utils import SENTINEL, get_lib_version

__all__ = ["DEFAULT_LIB_NAME", "DriverInfo", "resolve_driver_info"]

#: Library name reported when none is configured.
DEFAULT_LIB_NAME = "redis_native"

_BRACES = frozenset("()[]{}")
_PACKAGE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def _validate_no_invalid_chars(value: str, field_name: str) -> None:
    """Reject characters that would corrupt the space-separated CLIENT LIST output.

    Allowed: printable ASCII from ``!`` to ``~``, except brackets and braces.
    """
    for char in value:
        code = ord(char)
        if code < 0x21 or code > 0x7E or char in _BRACES:
            raise ValueError(
                f"{field_name} must not contain spaces, newlines, "
                "non-printable characters, or braces"
            )


def _validate_driver_name(name: str) -> None:
    """Check that an upstream driver name looks like a normalised package name."""
    _validate_no_invalid_chars(name, "Driver name")
    if not _PACKAGE_NAME.match(name):
        raise ValueError(
            "Upstream driver name must use a Python package-style name: "
            "start with a lowercase letter and contain only lowercase letters, "
            "digits, hyphens, and underscores (e.g., 'django-redis')."
        )


def _validate_driver_version(version: str) -> None:
    """Check that an upstream driver version is safe to send."""
    _validate_no_invalid_chars(version, "Driver version")


def _format_driver_entry(driver_name: str, driver_version: str) -> str:
    """Encode one upstream driver as ``name_vversion``."""
    return f"{driver_name}_v{driver_version}"


class _NewList:
    """Default of ``DriverInfo(_upstream=...)``: a new empty list per instance
    (the dataclass ``default_factory=list`` of redis-py's)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"


_NEW_LIST: Any = _NewList()


class _DataclassMetadata:
    """``__dataclass_fields__`` / ``__dataclass_params__`` of :class:`DriverInfo`,
    built by the :mod:`dataclasses` module on first access.

    redis-py's ``DriverInfo`` is a ``@dataclass``.  Ours is written out by hand
    (same ``__init__``, ``__repr__``, ``__eq__``, ``__match_args__``, unhashable)
    because importing ``dataclasses`` loads ``inspect``, ``ast`` and
    ``tokenize``: a sixth of the cost of ``import redis_native``, for a class
    every connection uses.  ``dataclasses.is_dataclass``/``fields``/``asdict``/
    ``replace`` still work: the first of them to look up the metadata gets it
    from a real dataclass declared with the same fields, and it is then stored
    on the class.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._attr = name
        self._owner = owner     # DriverInfo (a subclass's lookup also ends here)

    def __get__(self, instance: Any, cls: type) -> Any:
        import dataclasses

        owner = self._owner
        twin = dataclasses.dataclass(type(owner.__name__, (), {
            "__module__": owner.__module__,
            "__qualname__": owner.__qualname__,
            "__annotations__": dict(owner.__annotations__),
            "name": SENTINEL,
            "lib_version": SENTINEL,
            "_upstream": dataclasses.field(default_factory=list),
        }))
        for attr in ("__dataclass_fields__", "__dataclass_params__"):
            if owner.__dict__.get(attr) is not twin.__dict__[attr]:
                type.__setattr__(owner, attr, twin.__dict__[attr])
        return owner.__dict__[self._attr]


class DriverInfo:
    """Library name, library version and upstream drivers of a connection.

    ``name``: the base library name; left out, it is ``"redis_native"``;
    ``None`` means LIB-NAME is not sent.
    ``lib_version``: left out, it is redis_native's installed version; ``None``
    means LIB-VER is not sent.

    A dataclass as in redis-py (``dataclasses.fields``, ``asdict``, ``replace``
    work), written without the ``dataclasses`` module; see
    :class:`_DataclassMetadata`.
    """

    name: Optional[str] | object = SENTINEL
    lib_version: Optional[str] | object = SENTINEL
    _upstream: List[str]

    __dataclass_fields__ = _DataclassMetadata()
    __dataclass_params__ = _DataclassMetadata()
    __match_args__ = ("name", "lib_version", "_upstream")
    __hash__ = None  # type: ignore[assignment]  (eq=True, not frozen: unhashable)

    def __init__(
        self,
        name: Optional[str] | object = SENTINEL,
        lib_version: Optional[str] | object = SENTINEL,
        _upstream: List[str] = _NEW_LIST,
    ) -> None:
        self.name = name
        self.lib_version = lib_version
        self._upstream = [] if _upstream is _NEW_LIST else _upstream
        self.__post_init__()

    def __repr__(self) -> str:
        return (f"{type(self).__qualname__}(name={self.name!r}, "
                f"lib_version={self.lib_version!r}, _upstream={self._upstream!r})")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return ((self.name, self.lib_version, self._upstream)
                    == (other.name, other.lib_version, other._upstream))  # type: ignore[attr-defined]
        return NotImplemented

    def __post_init__(self) -> None:
        if self.name is SENTINEL:
            self.name = DEFAULT_LIB_NAME
        if self.lib_version is SENTINEL:
            self.lib_version = get_lib_version()

    @property
    def upstream_drivers(self) -> List[str]:
        """A copy of the upstream driver entries (``"name_vversion"``), newest first."""
        return list(self._upstream)

    def add_upstream_driver(self, driver_name: str, driver_version: str) -> "DriverInfo":
        """Record a library that drives this client; return ``self`` for chaining.

        Raises ``ValueError`` for a missing or malformed name or version.
        """
        if driver_name is None:
            raise ValueError("Driver name must not be None")
        if driver_version is None:
            raise ValueError("Driver version must not be None")
        _validate_driver_name(driver_name)
        _validate_driver_version(driver_version)
        self._upstream.insert(0, _format_driver_entry(driver_name, driver_version))
        return self

    @property
    def formatted_name(self) -> Optional[str]:
        """The LIB-NAME value: ``name`` or ``name(up1;up2)``; ``None`` if there is no name."""
        name = self.name
        if not isinstance(name, str) or not name:
            return None
        if self._upstream:
            return f"{name}({';'.join(self._upstream)})"
        return name


def resolve_driver_info(
    driver_info: Optional[DriverInfo] | object = SENTINEL,
    lib_name: Optional[str] | object = SENTINEL,
    lib_version: Optional[str] | object = SENTINEL,
) -> Optional[DriverInfo]:
    """Choose the :class:`DriverInfo` of a client or connection.

    An explicit ``driver_info`` (a :class:`DriverInfo` or ``None``) wins and
    ``lib_name``/``lib_version`` are ignored.  Otherwise a :class:`DriverInfo`
    is built from them, each falling back to its default when left out; when
    both are explicitly ``None`` the result is ``None`` (no CLIENT SETINFO).
    Anything else as ``driver_info`` raises ``TypeError``.
    """
    if driver_info is SENTINEL:
        if lib_name is None and lib_version is None:
            return None
        return DriverInfo(name=lib_name, lib_version=lib_version)
    if driver_info is None or isinstance(driver_info, DriverInfo):
        return driver_info
    raise TypeError("driver_info must be a DriverInfo instance or None")
