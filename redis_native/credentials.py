"""Credential providers: objects a connection asks for AUTH credentials.

A provider returns either ``(username, password)`` or ``(password,)``; the
connection sends ``AUTH`` with the one or two values.  The API matches
redis-py 7.4 (``redis.credentials``).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Optional, Tuple, Union

from .utils import lazy_module_logger

__all__ = [
    "CredentialProvider",
    "StreamingCredentialProvider",
    "UsernamePasswordCredentialProvider",
]


# ``logger`` is made (and ``logging`` imported) by the first message, not by
# ``import redis_native``; a logger assigned to it (a test's mock) is the one used.
_logger, __getattr__ = lazy_module_logger(globals())


CredentialsT = Union[Tuple[str], Tuple[str, str]]


class CredentialProvider:
    """Base class of credential providers.

    Subclasses implement :meth:`get_credentials`; asynchronous clients call
    :meth:`get_credentials_async`, which falls back to the synchronous method
    (and logs a warning) unless a subclass overrides it.
    """

    def get_credentials(self) -> CredentialsT:
        """Return ``(username, password)`` or ``(password,)``."""
        raise NotImplementedError("get_credentials must be implemented")

    async def get_credentials_async(self) -> CredentialsT:
        """Asynchronous variant of :meth:`get_credentials`."""
        _logger().warning(
            "This method is added for backward compatability. "
            "Please override it in your implementation."
        )
        return self.get_credentials()


class StreamingCredentialProvider(CredentialProvider, ABC):
    """A provider whose credentials change over time (tokens that expire).

    It notifies listeners of fresh credentials and of failures to obtain them
    through the callbacks registered with :meth:`on_next` and :meth:`on_error`.
    """

    @abstractmethod
    def on_next(self, callback: Callable[[Any], None]) -> Any:
        """Register ``callback`` to receive the next credentials obtained."""

    @abstractmethod
    def on_error(self, callback: Callable[[Exception], None]) -> Any:
        """Register ``callback`` to receive errors raised while refreshing."""

    @abstractmethod
    def is_streaming(self) -> bool:
        """Return whether credentials are currently being refreshed in the background."""


class UsernamePasswordCredentialProvider(CredentialProvider):
    """A provider holding a fixed username and password.

    Missing values are stored as empty strings.  Without a username only the
    password is returned, which selects the single-argument form of ``AUTH``.
    """

    def __init__(
        self, username: Optional[str] = None, password: Optional[str] = None
    ) -> None:
        self.username = username or ""
        self.password = password or ""

    def get_credentials(self) -> CredentialsT:
        if not self.username:
            return (self.password,)
        return (self.username, self.password)

    async def get_credentials_async(self) -> CredentialsT:
        return self.get_credentials()
