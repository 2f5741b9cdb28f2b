"""All the command mixins of a standalone client, gathered the way redis-py's
``redis.commands.core`` does.

The mixins live in one module per family; this module re-exports them under
redis-py's names and defines the aggregates.  ``CoreCommands`` keeps
redis-py's base order, so that methods defined by two mixins (``command``,
``command_info``, ``command_count``) resolve to the same implementation.
"""

from __future__ import annotations


from ..exceptions import ConnectionError, DataError, NoScriptError, RedisError  # noqa: F401
from ..typing import (  # noqa: F401  (importable from redis.commands.core too)
    AbsExpiryT,
    AnyKeyT,
    BitfieldOffsetT,
    ChannelT,
    CommandsProtocol,
    ConsumerT,
    EncodableT,
    ExpiryT,
    FieldT,
    GroupT,
    KeysT,
    KeyT,
    Number,
    PatternT,
    ResponseT,
    ScriptTextT,
    StreamIdT,
    TimeoutSecT,
    ZScoreBoundT,
)
from ..utils import (  # noqa: F401  (importable from redis.commands.core too)
    deprecated_function,
    experimental_args,
    experimental_method,
    extract_expire_flags,
    str_if_bytes,
)
from .acl import ACLCommands
from .geo import GeoCommands
from .hashes import HashCommands, HashDataPersistOptions
from .hyperloglog import HyperlogCommands
from .keys import BasicKeyCommands, BitFieldOperation, DataPersistOptions
from .lists import ListCommands
from .pubsub_cmds import PubSubCommands
from .scan import ScanCommands
from .scripting import FunctionCommands, Script, ScriptCommands
from .server import (
    ClusterCommands,
    HotkeysMetricsTypes,
    ManagementCommands,
    ModuleCommands,
)
from .sets import SetCommands
from .sorted_sets import SortedSetCommands
from .streams import StreamCommands
from .helpers import at_most_one_value_set, list_or_args  # noqa: F401


def __getattr__(name):
    # HAS_XXHASH: whether the optional ``xxhash`` package (for ``digest_local``)
    # is installed; looked up on first access rather than at import.
    if name != "HAS_XXHASH":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib.util

    value = globals()["HAS_XXHASH"] = importlib.util.find_spec("xxhash") is not None
    return value

__all__ = [
    "ACLCommands",
    "BasicKeyCommands",
    "BitFieldOperation",
    "ClusterCommands",
    "CoreCommands",
    "DataAccessCommands",
    "DataPersistOptions",
    "FunctionCommands",
    "GeoCommands",
    "HashCommands",
    "HashDataPersistOptions",
    "HotkeysMetricsTypes",
    "HyperlogCommands",
    "ListCommands",
    "ManagementCommands",
    "ModuleCommands",
    "PubSubCommands",
    "ScanCommands",
    "Script",
    "ScriptCommands",
    "SetCommands",
    "SortedSetCommands",
    "StreamCommands",
]


class DataAccessCommands(
    BasicKeyCommands,
    HyperlogCommands,
    HashCommands,
    GeoCommands,
    ListCommands,
    ScanCommands,
    SetCommands,
    StreamCommands,
    SortedSetCommands,
):
    """Every command that reads or writes data."""


class CoreCommands(
    ACLCommands,
    ClusterCommands,
    DataAccessCommands,
    ManagementCommands,
    ModuleCommands,
    PubSubCommands,
    ScriptCommands,
    FunctionCommands,
):
    """Every command of a standalone Redis server; mixed into ``Redis``
    (and later ``Pipeline``), which provide ``execute_command`` and
    ``get_encoder``."""


# ------------------------------------------------------------------ asyncio
# The asyncio client (redis_native.asyncio) reuses the mixins above: their
# methods return ``self.execute_command(...)``, which is a coroutine there.
# Only the methods that do more than return that call need async versions,
# as in redis-py.
from typing import Any as _Any, AsyncIterator, Awaitable  # noqa: E402,F401  (redis-py names)

from .keys import AsyncBasicKeyCommands  # noqa: E402
from .scan import AsyncScanCommands  # noqa: E402
from .scripting import AsyncScript, AsyncScriptCommands  # noqa: E402
from .server import AsyncManagementCommands, AsyncModuleCommands  # noqa: E402

AsyncACLCommands = ACLCommands
AsyncListCommands = ListCommands
AsyncSetCommands = SetCommands
AsyncStreamCommands = StreamCommands
AsyncSortedSetCommands = SortedSetCommands
AsyncHyperlogCommands = HyperlogCommands
AsyncHashCommands = HashCommands
AsyncPubSubCommands = PubSubCommands
AsyncGeoCommands = GeoCommands
AsyncClusterCommands = ClusterCommands
AsyncFunctionCommands = FunctionCommands

__all__ += [
    "AsyncACLCommands", "AsyncBasicKeyCommands", "AsyncClusterCommands", "AsyncCoreCommands",
    "AsyncDataAccessCommands", "AsyncFunctionCommands", "AsyncGeoCommands",
    "AsyncHashCommands", "AsyncHyperlogCommands", "AsyncListCommands",
    "AsyncManagementCommands", "AsyncModuleCommands", "AsyncPubSubCommands",
    "AsyncScanCommands", "AsyncScript", "AsyncScriptCommands", "AsyncSetCommands",
    "AsyncSortedSetCommands", "AsyncStreamCommands",
]


class AsyncDataAccessCommands(
    AsyncBasicKeyCommands,
    AsyncHyperlogCommands,
    AsyncHashCommands,
    AsyncGeoCommands,
    AsyncListCommands,
    AsyncScanCommands,
    AsyncSetCommands,
    AsyncStreamCommands,
    AsyncSortedSetCommands,
):
    """Every command that reads or writes data, for the asyncio client."""


class AsyncCoreCommands(
    AsyncACLCommands,
    AsyncClusterCommands,
    AsyncDataAccessCommands,
    AsyncManagementCommands,
    AsyncModuleCommands,
    AsyncPubSubCommands,
    AsyncScriptCommands,
    AsyncFunctionCommands,
):
    """Every command of a standalone Redis server, for the asyncio client
    (``redis_native.asyncio.Redis``), whose ``execute_command`` is a coroutine."""
