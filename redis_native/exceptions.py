"""Exception hierarchy of redis_native.

The class names, their bases and their constructor signatures are those of
redis-py 7.4 (``redis.exceptions``), so ``except redis.exceptions.X`` in user code
keeps catching the same failures.  :func:`parse_error_reply` turns a server error
reply (``-PREFIX message``) into an instance of the class redis-py would raise;
the C reader calls it for every error reply it meets.
"""

from __future__ import annotations
from enum import Enum
from typing import Optional


class ExceptionType(Enum):
    NETWORK = "network"
    TLS = "tls"
    AUTH = "auth"
    SERVER = "server"


class RedisError(Exception):
    """Base of every error raised by the client for a Redis operation."""

    _kind = ExceptionType.SERVER

    def __init__(self, *args, status_code: Optional[str] = None):
        super().__init__(*args)
        self.error_type = self._kind
        self.status_code = status_code

    def __repr__(self):
        return f"{self.error_type.value}:{type(self).__name__}"


class ConnectionError(RedisError):
    """The connection could not be made, or broke while in use."""

    _kind = ExceptionType.NETWORK


class TimeoutError(RedisError):
    """A socket operation ran past its timeout."""

    _kind = ExceptionType.NETWORK


class AuthenticationError(ConnectionError):
    """The server refused the credentials."""

    _kind = ExceptionType.AUTH


class AuthorizationError(ConnectionError):
    """The authenticated user may not do this."""

    _kind = ExceptionType.AUTH


class BusyLoadingError(ConnectionError):
    """The server is still loading its dataset (``LOADING``)."""

    _kind = ExceptionType.NETWORK


class InvalidResponse(RedisError):
    """The server sent bytes that are not valid RESP."""


class ResponseError(RedisError):
    """The server answered with an error reply."""


class DataError(RedisError):
    """An argument cannot be sent to the server as given."""


class PubSubError(RedisError):
    """Misuse of a PubSub object."""


class WatchError(RedisError):
    """A WATCHed key changed before EXEC."""


class NoScriptError(ResponseError):
    """EVALSHA named a script the server does not have (``NOSCRIPT``)."""


class OutOfMemoryError(ResponseError):
    """The server is at maxmemory and cannot evict (``OOM``)."""


class ExecAbortError(ResponseError):
    """A transaction was discarded because of an earlier error (``EXECABORT``)."""


class ReadOnlyError(ResponseError):
    """A write was sent to a read-only replica (``READONLY``)."""


class NoPermissionError(ResponseError):
    """The ACL user lacks the permission (``NOPERM``)."""

    _kind = ExceptionType.AUTH


class ModuleError(ResponseError):
    """A MODULE LOAD/UNLOAD failure."""


class LockError(RedisError, ValueError):
    """A Lock could not be acquired, extended or released.

    Also a ValueError, as it has always been in redis-py.
    """

    def __init__(self, message=None, lock_name=None):
        super().__init__(message)
        self.message = message
        self.lock_name = lock_name


class LockNotOwnedError(LockError):
    """The lock is held by somebody else (or expired) at extend/release time."""


class ChildDeadlockedError(Exception):
    """A forked child found the pool lock held by a thread of its parent."""


class AuthenticationWrongNumberOfArgsError(ResponseError):
    """AUTH got a username on a server that only takes a password."""

    _kind = ExceptionType.AUTH


class RedisClusterException(Exception):
    """Base of client-side cluster errors."""

    def __init__(self, *args):
        super().__init__(*args)
        self.error_type = ExceptionType.SERVER

    def __repr__(self):
        return f"{self.error_type.value}:{type(self).__name__}"


class ClusterError(RedisError):
    """Cluster redirections or failures exhausted the command's attempts."""


class ClusterDownError(ClusterError, ResponseError):
    """``CLUSTERDOWN``: a slot is not served, the cluster refuses queries."""

    def __init__(self, resp, status_code: Optional[str] = None):
        self.args = (resp,)
        self.message = resp
        self.error_type = ExceptionType.SERVER
        self.status_code = status_code


class AskError(ResponseError):
    """``ASK slot host:port``: retry once on the named node after ASKING."""

    def __init__(self, resp, status_code: Optional[str] = None):
        super().__init__(resp, status_code=status_code)
        self.args = (resp,)
        self.message = resp
        slot_text, address = resp.split(" ")
        host, port = address.rsplit(":", 1)
        self.slot_id = int(slot_text)
        self.host, self.port = host, int(port)
        self.node_addr = (self.host, self.port)


class TryAgainError(ResponseError):
    """``TRYAGAIN``: a multi-key command hit a slot being migrated."""

    def __init__(self, *args, status_code: Optional[str] = None, **kwargs):
        super().__init__(*args, status_code=status_code)


class ClusterCrossSlotError(ResponseError):
    """``CROSSSLOT``: the keys of one command live in different slots."""

    message = "Keys in request don't hash to the same slot"


class MovedError(AskError):
    """``MOVED slot host:port``: the slot now lives on another node."""


class MasterDownError(ClusterDownError):
    """``MASTERDOWN``: the replica lost its master and serves no stale data."""


class SlotNotCoveredError(RedisClusterException):
    """No known node serves the slot; the cluster layout must be reloaded."""


class MaxConnectionsError(ConnectionError):
    """The pool already holds max_connections connections."""


class CrossSlotTransactionError(RedisClusterException):
    """A cluster transaction touched keys of more than one slot."""


class InvalidPipelineStack(RedisClusterException):
    """A cluster pipeline got a different number of replies than commands."""


class ExternalAuthProviderError(ConnectionError):
    """An external authentication provider (LDAP...) failed."""


class IncorrectPolicyType(Exception):
    """A request/response policy of the wrong type was given."""


# --------------------------------------------------------------------------
# Error reply -> exception instance
# --------------------------------------------------------------------------

# Exact messages after "ERR " that redis-py maps to a class other than
# ResponseError.
_ERR_MESSAGES = {
    "max number of clients reached": ConnectionError,
    "invalid password": AuthenticationError,
    "wrong number of arguments for 'auth' command": AuthenticationWrongNumberOfArgsError,
    "wrong number of arguments for 'AUTH' command": AuthenticationWrongNumberOfArgsError,
    "Error loading the extension. Please check the server logs.": ModuleError,
    "Error unloading module: the module exports one or more module-side data "
    "types, can't unload": ModuleError,
    "Error unloading module: no such module with that name": ModuleError,
    "Error unloading module: operation not possible.": ModuleError,
    "AUTH <password> called without any password configured for the default "
    "user. Are you sure your configuration is correct?": AuthenticationError,
    "Client sent AUTH, but no password is set": AuthenticationError,
    "problem with LDAP service": ExternalAuthProviderError,
}

# First word of the reply -> class; the word is stripped from the message.
ERROR_PREFIXES = {
    "ERR": _ERR_MESSAGES,
    "OOM": OutOfMemoryError,
    "WRONGPASS": AuthenticationError,
    "EXECABORT": ExecAbortError,
    "LOADING": BusyLoadingError,
    "NOSCRIPT": NoScriptError,
    "READONLY": ReadOnlyError,
    "NOAUTH": AuthenticationError,
    "NOPERM": NoPermissionError,
    "ASK": AskError,
    "TRYAGAIN": TryAgainError,
    "MOVED": MovedError,
    "CLUSTERDOWN": ClusterDownError,
    "CROSSSLOT": ClusterCrossSlotError,
    "MASTERDOWN": MasterDownError,
}


def parse_error_reply(message: str, table: Optional[dict] = None) -> Exception:
    """Return (not raise) the exception for the error reply ``message``.

    ``table`` is the prefix table to consult (default :data:`ERROR_PREFIXES`,
    which the C reader uses); a parser subclass passes its own
    ``EXCEPTION_CLASSES``.

    A known first word (``ERR``, ``NOSCRIPT``, ``MOVED``...) selects the class and
    is removed from the text; any other reply becomes a ResponseError carrying the
    whole text (so ``WRONGTYPE ...`` keeps its prefix), as redis-py does.
    """
    code = message.split(" ", 1)[0]
    target = (ERROR_PREFIXES if table is None else table).get(code)
    if target is None:
        return ResponseError(message)
    rest = message[len(code) + 1:]
    if isinstance(target, dict):
        target = target.get(rest, ResponseError)
    try:
        return target(rest, status_code=code)
    except (ValueError, TypeError):
        # A malformed MOVED/ASK payload must not turn into a crash of the
        # reader; report it as a plain error reply instead.
        return ResponseError(message)
