"""Redis Cluster client, as ``redis.cluster``: ``RedisCluster``, ``ClusterNode``,
``NodesManager``, ``LoadBalancer``, ``LoadBalancingStrategy`` and helpers.

How a command travels
---------------------
``RedisCluster.execute_command`` is C (``_native.ClusterBase``, src/cluster.c).
For the common command -- fixed key positions, no ``target_nodes``, keys in
one slot -- C finds the keys, hashes them (CRC16, hash tags), reads the slot's
primary from the slot table that :class:`NodesManager` owns
(``nodes_manager.slots_cache``, a ``_native.SlotTable``) and runs the command
through that node's ordinary :class:`~redis_native.client.Redis` client, whose
own ``execute_command`` is C too: one call from the command method to the
reply.  Every other command, and every command whose first attempt failed,
continues here, in :meth:`RedisCluster._internal_execute_command` /
:meth:`RedisCluster._resume_command`: routing flags and policies, replica
reads, aggregation of several nodes' replies, and redis-py's handling of
MOVED (slot table patched, full refresh every ``reinitialize_steps``), ASK
(``ASKING`` then the command on one connection of the target), TRYAGAIN,
CLUSTERDOWN and connection errors (topology refresh, then a retry counted by
the client's ``Retry``).

Nodes and slots (shared with ClusterPipeline and ClusterPubSub)
---------------------------------------------------------------
:class:`NodesManager` discovers the topology with ``CLUSTER SLOTS``, keeps
``nodes_cache`` (name -> :class:`ClusterNode`) and ``slots_cache`` (slot ->
``[primary, replica...]``, the lists shared by all slots of a range), creates
one ``Redis`` client (so one connection pool) per node, and replaces the whole
table at once on a refresh, under its lock.  Anything that needs a node for a
slot -- this client, a cluster pipeline, sharded pub/sub -- asks it
(``get_node_from_slot``) or reads the same table.
"""
from __future__ import annotations

import logging
import operator
import random
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import MutableMapping
from enum import Enum
from typing import Any, Callable, Dict, List, Literal, Optional, Sequence, Tuple, Union

from . import _native
from ._parsers import CommandsParser, Encoder
from ._parsers.commands import CommandPolicies, RequestPolicy, ResponsePolicy
from ._parsers.helpers import parse_scan
from .backoff import ExponentialWithJitterBackoff, NoBackoff
from .client import EMPTY_RESPONSE, CaseInsensitiveDict, PubSub, Redis  # noqa: F401
from .commands._stack import StackModuleAccessors
from .commands.cluster import READ_COMMANDS, RedisClusterCommands
from .commands.helpers import list_or_args  # noqa: F401  (importable from here, as in redis-py)
from .commands.policies import PolicyResolver, StaticPolicyResolver
from .connection import Connection, ConnectionPool, parse_url
from .crc import REDIS_CLUSTER_HASH_SLOTS, key_slot  # noqa: F401
from .event import (  # noqa: F401  (AfterPubSub... importable from here, as in redis-py)
    AfterPooledConnectionsInstantiationEvent,
    AfterPubSubConnectionInstantiationEvent,
    ClientType,
    EventDispatcher,
)
from .exceptions import (
    AskError,
    AuthenticationError,
    ClusterDownError,
    ClusterError,
    ConnectionError,
    CrossSlotTransactionError,  # noqa: F401
    DataError,  # noqa: F401
    ExecAbortError,  # noqa: F401
    InvalidPipelineStack,  # noqa: F401
    MaxConnectionsError,
    MovedError,
    RedisClusterException,
    RedisError,
    ResponseError,
    SlotNotCoveredError,
    TimeoutError,
    TryAgainError,
    WatchError,  # noqa: F401
)
from .lock import Lock
from .retry import Retry
from .utils import (
    check_protocol_version,
    deprecated_args,
    deprecated_function,
    dict_merge,
    list_keys_to_dict,
    merge_result,
    safe_str,  # noqa: F401
    str_if_bytes,
    truncate_text,  # noqa: F401
)

logger = logging.getLogger(__name__)

__all__ = ["RedisCluster", "ClusterNode", "NodesManager", "LoadBalancer",
           "LoadBalancingStrategy", "get_node_name", "parse_cluster_slots",
           "parse_cluster_shards", "parse_cluster_myshardid", "PRIMARY", "REPLICA", "SLOT_ID"]


def is_debug_log_enabled() -> bool:
    return logger.isEnabledFor(logging.DEBUG)


def get_node_name(host: str, port: Union[str, int]) -> str:
    """``"host:port"``, the name a node is known by."""
    return f"{host}:{port}"


@deprecated_args(allowed_args=["redis_node"], reason="Use get_connection(redis_node) instead",
                 version="5.3.0")
def get_connection(redis_node: Redis, *args: Any, **options: Any) -> Connection:
    """The node client's own connection, or one from its pool."""
    return redis_node.connection or redis_node.connection_pool.get_connection()


# the pipeline calls get_connection only when it was replaced (this is the original)
_GET_CONNECTION = get_connection


def parse_scan_result(command: Any, res: Dict[str, Any], **options: Any) -> Tuple[Dict, List]:
    """SCAN on several nodes: ({node name: next cursor}, all keys)."""
    cursors, keys = {}, []
    for node_name, reply in res.items():
        cursor, found = parse_scan(reply, **options)
        cursors[node_name] = cursor
        keys += found
    return cursors, keys


def parse_pubsub_numsub(command: Any, res: Dict[str, Any], **options: Any) -> List[Tuple]:
    """PUBSUB NUMSUB on several nodes: [(channel, total subscribers)], first-seen order."""
    totals: "OrderedDict[Any, int]" = OrderedDict()
    for pairs in res.values():
        for channel, count in pairs:
            totals[channel] = totals.get(channel, 0) + count
    return list(totals.items())


def parse_cluster_slots(resp: Any, **options: Any) -> Dict[Tuple[int, int], Dict[str, Any]]:
    """CLUSTER SLOTS as {(start, end): {"primary": (host, port), "replicas": [...]}};
    an empty host is the node the command was sent to (``current_host``)."""
    current_host = options.get("current_host", "")

    def address(*node: Any) -> Tuple[str, Any]:
        return str_if_bytes(node[0]) or current_host, node[1]

    return {
        (entry[0], entry[1]): {"primary": address(*entry[2]),
                               "replicas": [address(*r) for r in entry[3:]]}
        for entry in resp
    }


def parse_cluster_shards(resp: Any, **options: Any) -> Any:
    """CLUSTER SHARDS as a list of {"slots": [(start, end)...], "nodes": [{...}]}."""
    if isinstance(resp[0], dict):
        return resp
    shards = []
    for entry in resp:
        slots = entry[1]
        shard = {"slots": [(slots[i], slots[i + 1]) for i in range(0, len(slots), 2)],
                 "nodes": []}
        for node in entry[3]:
            shard["nodes"].append({node[i]: node[i + 1] for i in range(0, len(node), 2)})
        shards.append(shard)
    return shards


def parse_cluster_myshardid(resp: Any, **options: Any) -> str:
    """CLUSTER MYSHARDID as str."""
    return resp.decode("utf-8")


PRIMARY = "primary"
REPLICA = "replica"
SLOT_ID = "slot-id"

_ALL_SLOTS = frozenset(range(REDIS_CLUSTER_HASH_SLOTS))

# the client keyword arguments a node's Redis client is built with
REDIS_ALLOWED_KEYS = (
    "connection_class", "connection_pool", "connection_pool_class", "client_name",
    "credential_provider", "db", "decode_responses", "encoding", "encoding_errors", "host",
    "driver_info", "lib_name", "lib_version", "max_connections", "nodes_flag",
    "redis_connect_func", "password", "port", "timeout", "queue_class", "retry",
    "retry_on_timeout", "protocol", "socket_connect_timeout", "socket_keepalive",
    "socket_keepalive_options", "socket_timeout", "ssl", "ssl_ca_certs", "ssl_ca_data",
    "ssl_ca_path", "ssl_certfile", "ssl_cert_reqs", "ssl_include_verify_flags",
    "ssl_exclude_verify_flags", "ssl_keyfile", "ssl_password", "ssl_check_hostname",
    "unix_socket_path", "username", "cache", "cache_config", "maint_notifications_config",
)
KWARGS_DISABLED_KEYS = ("host", "port", "retry")


def cleanup_kwargs(**kwargs: Any) -> Dict[str, Any]:
    """The keyword arguments meant for the nodes' clients: the allowed ones,
    without host, port and retry (the cluster client's own)."""
    return {k: v for k, v in kwargs.items()
            if k in REDIS_ALLOWED_KEYS and k not in KWARGS_DISABLED_KEYS}


def _all_true(command: Any, res: Any) -> Any:
    return all(res.values()) if isinstance(res, dict) else res


def _sum_values(command: Any, res: Any) -> Any:
    return sum(res.values()) if isinstance(res, dict) else res


class MaintNotificationsAbstractRedisCluster:
    """The maintenance-notification part of a cluster client (a mixin of
    RedisCluster, as in redis-py).  Maintenance notifications are RESP3 push
    messages, which redis_native does not speak: a configuration that enables
    them is refused, and nothing is set up otherwise."""

    def __init__(self, maint_notifications_config: Optional[Any], **kwargs: Any):
        enabled = bool(maint_notifications_config) and getattr(
            maint_notifications_config, "enabled", False)
        if enabled and not check_protocol_version(kwargs.get("protocol"), 3):
            raise RedisError("Maintenance notifications handlers on connection are only "
                             "supported with RESP version 3")
        if enabled:
            raise RedisError("redis_native does not support maintenance notifications "
                             "(RESP3) yet")
        self.maint_notifications_config = maint_notifications_config
        self._oss_cluster_maint_notifications_handler = None

    def _update_connection_kwargs_for_maint_notifications(self, oss_cluster_maint_notifications_handler: Any) -> None:
        """Hand the handler to every connection made from now on."""
        self.nodes_manager.connection_kwargs.update(
            {"oss_cluster_maint_notifications_handler": oss_cluster_maint_notifications_handler})


class AbstractRedisCluster:
    """Routing tables shared by the cluster clients (redis-py's names and values)."""

    RedisClusterRequestTTL = 16

    PRIMARIES = "primaries"
    REPLICAS = "replicas"
    ALL_NODES = "all"
    RANDOM = "random"
    DEFAULT_NODE = "default-node"

    NODE_FLAGS = {PRIMARIES, REPLICAS, ALL_NODES, RANDOM, DEFAULT_NODE}

    COMMAND_FLAGS = dict_merge(
        list_keys_to_dict(
            [
                "ACL CAT", "ACL DELUSER", "ACL DRYRUN", "ACL GENPASS", "ACL GETUSER", "ACL HELP",
                "ACL LIST", "ACL LOG", "ACL LOAD", "ACL SAVE", "ACL SETUSER", "ACL USERS",
                "ACL WHOAMI", "AUTH", "CLIENT LIST", "CLIENT SETINFO", "CLIENT SETNAME",
                "CLIENT GETNAME", "CONFIG SET", "CONFIG REWRITE", "CONFIG RESETSTAT", "TIME",
                "PUBSUB CHANNELS", "PUBSUB NUMPAT", "PUBSUB NUMSUB", "PUBSUB SHARDCHANNELS",
                "PUBSUB SHARDNUMSUB", "PING", "INFO", "SHUTDOWN", "KEYS", "DBSIZE", "BGSAVE",
                "SLOWLOG GET", "SLOWLOG LEN", "SLOWLOG RESET", "WAIT", "WAITAOF", "SAVE",
                "MEMORY PURGE", "MEMORY MALLOC-STATS", "MEMORY STATS", "LASTSAVE",
                "CLIENT TRACKINGINFO", "CLIENT PAUSE", "CLIENT UNPAUSE", "CLIENT UNBLOCK",
                "CLIENT ID", "CLIENT REPLY", "CLIENT GETREDIR", "CLIENT INFO", "CLIENT KILL",
                "READONLY", "CLUSTER INFO", "CLUSTER MEET", "CLUSTER MYSHARDID", "CLUSTER NODES",
                "CLUSTER REPLICAS", "CLUSTER RESET", "CLUSTER SET-CONFIG-EPOCH", "CLUSTER SLOTS",
                "CLUSTER SHARDS", "CLUSTER COUNT-FAILURE-REPORTS", "CLUSTER KEYSLOT", "COMMAND",
                "COMMAND COUNT", "COMMAND LIST", "COMMAND GETKEYS", "CONFIG GET", "DEBUG",
                "RANDOMKEY", "READONLY", "READWRITE", "TIME", "TFUNCTION LOAD",
                "TFUNCTION DELETE", "TFUNCTION LIST", "TFCALL", "TFCALLASYNC",
                "LATENCY HISTORY", "LATENCY LATEST", "LATENCY RESET", "MODULE LIST",
                "MODULE LOAD", "MODULE UNLOAD", "MODULE LOADEX",
            ],
            DEFAULT_NODE,
        ),
        list_keys_to_dict(
            [
                "FLUSHALL", "FLUSHDB", "FUNCTION DELETE", "FUNCTION FLUSH", "FUNCTION LIST",
                "FUNCTION LOAD", "FUNCTION RESTORE", "SCAN", "SCRIPT EXISTS", "SCRIPT FLUSH",
                "SCRIPT LOAD",
            ],
            PRIMARIES,
        ),
        list_keys_to_dict(["FUNCTION DUMP"], RANDOM),
        list_keys_to_dict(
            ["CLUSTER COUNTKEYSINSLOT", "CLUSTER DELSLOTS", "CLUSTER DELSLOTSRANGE",
             "CLUSTER GETKEYSINSLOT", "CLUSTER SETSLOT"],
            SLOT_ID,
        ),
    )

    SEARCH_COMMANDS = (
        [
            "FT.CREATE", "FT.SEARCH", "FT.AGGREGATE", "FT.EXPLAIN", "FT.EXPLAINCLI",
            "FT,PROFILE", "FT.ALTER", "FT.DROPINDEX", "FT.ALIASADD", "FT.ALIASUPDATE",
            "FT.ALIASDEL", "FT.TAGVALS", "FT.SUGADD", "FT.SUGGET", "FT.SUGDEL", "FT.SUGLEN",
            "FT.SYNUPDATE", "FT.SYNDUMP", "FT.SPELLCHECK", "FT.DICTADD", "FT.DICTDEL",
            "FT.DICTDUMP", "FT.INFO", "FT._LIST", "FT.CONFIG", "FT.ADD", "FT.DEL", "FT.DROP",
            "FT.GET", "FT.MGET", "FT.SYNADD",
        ],
    )

    CLUSTER_COMMANDS_RESPONSE_CALLBACKS = {
        "CLUSTER SLOTS": parse_cluster_slots,
        "CLUSTER SHARDS": parse_cluster_shards,
        "CLUSTER MYSHARDID": parse_cluster_myshardid,
    }

    RESULT_CALLBACKS = dict_merge(
        list_keys_to_dict(["PUBSUB NUMSUB", "PUBSUB SHARDNUMSUB"], parse_pubsub_numsub),
        list_keys_to_dict(["PUBSUB NUMPAT"], lambda command, res: sum(list(res.values()))),
        list_keys_to_dict(["KEYS", "PUBSUB CHANNELS", "PUBSUB SHARDCHANNELS"], merge_result),
        list_keys_to_dict(
            ["PING", "CONFIG SET", "CONFIG REWRITE", "CONFIG RESETSTAT", "CLIENT SETNAME",
             "BGSAVE", "SLOWLOG RESET", "SAVE", "MEMORY PURGE", "CLIENT PAUSE",
             "CLIENT UNPAUSE"],
            _all_true,
        ),
        list_keys_to_dict(["DBSIZE", "WAIT"], _sum_values),
        list_keys_to_dict(["CLIENT UNBLOCK"],
                          lambda command, res: 1 if sum(res.values()) > 0 else 0),
        list_keys_to_dict(["SCAN"], parse_scan_result),
        list_keys_to_dict(["SCRIPT LOAD"], lambda command, res: list(res.values()).pop()),
        list_keys_to_dict(["SCRIPT EXISTS"],
                          lambda command, res: [all(k) for k in zip(*res.values())]),
        list_keys_to_dict(["SCRIPT FLUSH"], lambda command, res: all(res.values())),
    )

    ERRORS_ALLOW_RETRY = (ConnectionError, TimeoutError, ClusterDownError, SlotNotCoveredError)

    def replace_default_node(self, target_node: "ClusterNode" = None) -> None:
        """Make ``target_node`` the default node; without one, pick a random
        other primary (or, failing that, another replica)."""
        if target_node:
            self.nodes_manager.default_node = target_node
            return
        current = self.get_default_node()
        others = [n for n in self.get_primaries() if n != current]
        if not others:
            others = [n for n in self.get_replicas() if n != current]
        if others:
            self.nodes_manager.default_node = random.choice(others)


# The commands whose key positions C must not take from COMMAND: redis-py
# routes them specially (EVAL/EVALSHA by numkeys, FCALL with no key to a
# random slot, CLIENT TRACKING nowhere).
_SPECIAL_ROUTING = frozenset(["EVAL", "EVALSHA", "FCALL", "FCALL_RO", "CLIENT"])
# ...of which C routes these in redis-py's way: the keys follow the key count
# at args[2] (step 0 marks that form; a count of 0 goes to Python, which
# picks a random slot)
_NUMKEYS_ROUTING = {"EVAL": (3, 0, 0), "EVALSHA": (3, 0, 0)}


def _slot_of_keys(cluster: Any, command: str, keys: Optional[Sequence[Any]],
                  shown_args: Any) -> int:
    """The one slot of ``keys``, the keys found for ``command`` (sync and
    asyncio clients): a random slot for FCALL/FCALL_RO without keys, else
    RedisClusterException when there is no key (``shown_args`` in the
    message, as each client's redis-py twin shows them) or the keys span
    several slots."""
    if not keys:
        if command.upper() in ("FCALL", "FCALL_RO"):
            return random.randrange(0, REDIS_CLUSTER_HASH_SLOTS)
        raise RedisClusterException(
            "No way to dispatch this command to Redis Cluster. Missing key.\n"
            "You can execute the command by specifying target nodes.\n"
            f"Command: {shown_args}"
        )
    if len(keys) == 1:
        return cluster.keyslot(keys[0])
    slots = {cluster.keyslot(key) for key in keys}
    if len(slots) != 1:
        raise RedisClusterException(f"{command} - all keys must map to the same key slot")
    return slots.pop()


class RedisCluster(_native.ClusterBase, AbstractRedisCluster, MaintNotificationsAbstractRedisCluster,
                   RedisClusterCommands, StackModuleAccessors):
    """A client for a Redis Cluster, compatible with redis-py's ``RedisCluster``.

    Give it one reachable node (``host``/``port``, ``url``) or several
    (``startup_nodes``); it discovers the rest.  Keyed commands go to the node
    serving their keys' hash slot; see :class:`RedisClusterCommands` for the
    others and for ``target_nodes``.  Keyword arguments not listed here
    configure every node's connections (``password``, ``socket_timeout``,
    ``decode_responses``...); ``db`` is refused, as a cluster has only db 0.
    """

    # ClusterBase's C method, bound as a types.MethodType (see Redis.execute_command)
    execute_command = _native.BindableMethod(_native.ClusterBase.execute_command)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "RedisCluster":
        """A cluster client from ``redis://[[username]:[password]]@host:port``;
        the URL's query arguments and ``kwargs`` configure the nodes'
        connections (``unix://`` and a non-zero db are refused)."""
        return cls(url=url, **kwargs)

    @deprecated_args(args_to_warn=["read_from_replicas"],
                     reason="Please configure the 'load_balancing_strategy' instead",
                     version="5.3.0")
    @deprecated_args(args_to_warn=["cluster_error_retry_attempts"],
                     reason="Please configure the 'retry' object instead", version="6.0.0")
    def __init__(
        self,
        host: Optional[str] = None,
        port: int = 6379,
        startup_nodes: Optional[List["ClusterNode"]] = None,
        cluster_error_retry_attempts: int = 3,
        retry: Optional["Retry"] = None,
        require_full_coverage: bool = True,
        reinitialize_steps: int = 5,
        read_from_replicas: bool = False,
        load_balancing_strategy: Optional["LoadBalancingStrategy"] = None,
        dynamic_startup_nodes: bool = True,
        url: Optional[str] = None,
        address_remap: Optional[Callable[[Tuple[str, int]], Tuple[str, int]]] = None,
        cache: Optional[Any] = None,
        cache_config: Optional[Any] = None,
        event_dispatcher: Optional[EventDispatcher] = None,
        policy_resolver: PolicyResolver = StaticPolicyResolver(),
        maint_notifications_config: Optional[Any] = None,
        **kwargs: Any,
    ):
        """See the class docstring.  ``retry`` (default: 3 retries, or
        ``cluster_error_retry_attempts``) counts how often a command is tried
        again after a connection error, CLUSTERDOWN or an uncovered slot, each
        time on a refreshed topology; ``reinitialize_steps`` how many MOVED
        replies patch the slot table before a full refresh (0: never);
        ``read_from_replicas``/``load_balancing_strategy`` let replicas serve
        read commands (connections then send READONLY); ``dynamic_startup_nodes``
        makes every discovered node a startup node for later refreshes;
        ``address_remap`` maps the ``(host, port)`` nodes announce to the one
        to connect to."""
        if startup_nodes is None:
            startup_nodes = []
        if "db" in kwargs:
            raise RedisClusterException("Argument 'db' is not possible to use in cluster mode")
        if "retry" in kwargs:
            raise RedisClusterException(
                "The 'retry' argument cannot be used in kwargs when running in cluster mode.")

        from_url = False
        if url is not None:
            from_url = True
            url_options = parse_url(url)
            if "path" in url_options:
                raise RedisClusterException(
                    "RedisCluster does not currently support Unix Domain Socket connections")
            if "db" in url_options and url_options["db"] != 0:
                raise RedisClusterException(
                    "A ``db`` querystring option can only be 0 in cluster mode")
            kwargs.update(url_options)
            host = kwargs.get("host")
            port = kwargs.get("port", port)
            startup_nodes.append(ClusterNode(host, port))
        elif host is not None and port is not None:
            startup_nodes.append(ClusterNode(host, port))
        elif len(startup_nodes) == 0:
            raise RedisClusterException(
                "RedisCluster requires at least one node to discover the cluster. Please "
                "provide one of the followings:\n"
                "1. host and port, for example:\n"
                " RedisCluster(host='localhost', port=6379)\n"
                "2. list of startup nodes, for example:\n"
                " RedisCluster(startup_nodes=[ClusterNode('localhost', 6379),"
                " ClusterNode('localhost', 6378)])"
            )
        # every new node connection runs on_connect (READONLY when replicas
        # serve reads), then the user's own redis_connect_func
        self.user_on_connect_func = kwargs.pop("redis_connect_func", None)
        kwargs.update({"redis_connect_func": self.on_connect})
        kwargs = cleanup_kwargs(**kwargs)
        self.retry = retry if retry else Retry(
            backoff=ExponentialWithJitterBackoff(base=1, cap=10),
            retries=cluster_error_retry_attempts,
        )
        self.encoder = Encoder(kwargs.get("encoding", "utf-8"),
                               kwargs.get("encoding_errors", "strict"),
                               kwargs.get("decode_responses", False))
        self._key_encoding = self.encoder.encoding
        self._key_encoding_errors = self.encoder.encoding_errors
        protocol = kwargs.get("protocol", None)
        if (cache_config or cache) and not check_protocol_version(protocol, 3):
            raise RedisError("Client caching is only supported with RESP version 3")
        if maint_notifications_config and not check_protocol_version(protocol, 3):
            raise RedisError("Maintenance notifications are only supported with RESP version 3")
        self.maint_notifications_config = maint_notifications_config

        self.command_flags = self.__class__.COMMAND_FLAGS.copy()
        self.node_flags = self.__class__.NODE_FLAGS.copy()
        self.read_from_replicas = read_from_replicas
        self.load_balancing_strategy = load_balancing_strategy
        self.reinitialize_counter = 0
        self.reinitialize_steps = reinitialize_steps
        self._event_dispatcher = event_dispatcher if event_dispatcher is not None \
            else EventDispatcher()
        self.startup_nodes = startup_nodes

        self.nodes_manager = NodesManager(
            startup_nodes=startup_nodes,
            from_url=from_url,
            require_full_coverage=require_full_coverage,
            dynamic_startup_nodes=dynamic_startup_nodes,
            address_remap=address_remap,
            cache=cache,
            cache_config=cache_config,
            event_dispatcher=self._event_dispatcher,
            maint_notifications_config=maint_notifications_config,
            **kwargs,
        )
        self.cluster_response_callbacks = CaseInsensitiveDict(
            self.__class__.CLUSTER_COMMANDS_RESPONSE_CALLBACKS)
        self.result_callbacks = CaseInsensitiveDict(self.__class__.RESULT_CALLBACKS)

        self._init_policy_tables(policy_resolver)
        self.commands_parser = CommandsParser(self)
        self._aggregate_nodes = None
        self._lock = threading.RLock()

        # hand the C router its tables: the slot table NodesManager keeps
        # current, and the fixed key positions of the COMMAND table
        self._slot_table = self.nodes_manager.slots_cache
        self._read_commands = set(READ_COMMANDS)
        # reads from replicas take their round-robin turn in C, in the very
        # LoadBalancer of the nodes manager, while neither method is replaced
        self._replica_router = (self.nodes_manager, NodesManager.get_node_from_slot,
                                LoadBalancer.get_server_index)
        self._key_specs = self._router_key_specs()
        MaintNotificationsAbstractRedisCluster.__init__(self, maint_notifications_config, **kwargs)

    def _init_policy_tables(self, policy_resolver: Any) -> None:
        """The routing flags as request policies, each policy's node chooser,
        and the resolver (shared by RedisCluster and ClusterPipeline)."""
        self._command_flags_mapping: Dict[str, Union[RequestPolicy, ResponsePolicy]] = {
            self.__class__.RANDOM: RequestPolicy.DEFAULT_KEYLESS,
            self.__class__.PRIMARIES: RequestPolicy.ALL_SHARDS,
            self.__class__.ALL_NODES: RequestPolicy.ALL_NODES,
            self.__class__.REPLICAS: RequestPolicy.ALL_REPLICAS,
            self.__class__.DEFAULT_NODE: RequestPolicy.DEFAULT_NODE,
            SLOT_ID: RequestPolicy.DEFAULT_KEYED,
        }
        self._policies_callback_mapping: Dict[Union[RequestPolicy, ResponsePolicy], Callable] = {
            RequestPolicy.DEFAULT_KEYLESS:
                lambda command_name: [self.get_random_primary_or_all_nodes(command_name)],
            RequestPolicy.DEFAULT_KEYED:
                lambda command, *args: self.get_nodes_from_slot(command, *args),
            RequestPolicy.DEFAULT_NODE: lambda: [self.get_default_node()],
            RequestPolicy.ALL_SHARDS: self.get_primaries,
            RequestPolicy.ALL_NODES: self.get_nodes,
            RequestPolicy.ALL_REPLICAS: self.get_replicas,
            RequestPolicy.MULTI_SHARD:
                lambda *args, **kwargs: self._split_multi_shard_command(*args, **kwargs),
            RequestPolicy.SPECIAL: self.get_special_nodes,
            ResponsePolicy.DEFAULT_KEYLESS: lambda res: res,
            ResponsePolicy.DEFAULT_KEYED: lambda res: res,
        }
        self._policy_resolver = policy_resolver

    def _router_key_specs(self) -> Dict[str, Tuple[int, int, int]]:
        """{command name: (first, last, step)} for the commands C may route
        by their keys alone: fixed key positions in COMMAND, no routing flag
        (alone or as the first word of a two-word name), no policy, no special
        case; and EVAL/EVALSHA by their key count.  Names as the command
        methods send them (upper case)."""
        flagged_heads = {name.split(" ", 1)[0] for name in self.command_flags}
        specs = {}
        for name, info in self.commands_parser.commands.items():
            flags = info.get("flags", ())
            first, last, step = info["first_key_pos"], info["last_key_pos"], info["step_count"]
            upper = name.upper()
            if ("movablekeys" in flags or "pubsub" in flags or name == "pubsub"
                    or first <= 0 or step <= 0 or upper in _SPECIAL_ROUTING
                    or upper in flagged_heads or "." in name or " " in name):
                continue
            try:
                if self._policy_resolver.resolve(name) is not None:
                    continue
            except ValueError:
                continue
            specs[upper] = (first, last, step)
        for name, spec in _NUMKEYS_ROUTING.items():
            if name not in self.command_flags and self._policy_resolver.resolve(name.lower()) is None:
                specs[name] = spec
        return specs

    def __enter__(self) -> "RedisCluster":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def disconnect_connection_pools(self) -> None:
        """Disconnect every node's pool."""
        for node in self.get_nodes():
            if node.redis_connection:
                try:
                    node.redis_connection.connection_pool.disconnect()
                except OSError:
                    pass

    def on_connect(self, connection: Connection) -> None:
        """Run on every new node connection: the usual handshake, READONLY
        when replicas serve reads, then the user's ``redis_connect_func``."""
        connection.on_connect()
        if self.read_from_replicas or self.load_balancing_strategy:
            # any node may become a replica after a failover: every connection
            # is made READONLY (it does not hinder writes on a primary)
            connection.send_command("READONLY")
            if str_if_bytes(connection.read_response()) != "OK":
                raise ConnectionError("READONLY command failed")
        if self.user_on_connect_func is not None:
            self.user_on_connect_func(connection)

    # -- nodes ---------------------------------------------------------------
    def get_redis_connection(self, node: "ClusterNode") -> Redis:
        """The node's Redis client, created on first use."""
        if not node.redis_connection:
            with self._lock:
                if not node.redis_connection:
                    self.nodes_manager.create_redis_connections([node])
        return node.redis_connection

    def get_node(self, host: Optional[str] = None, port: Optional[int] = None,
                 node_name: Optional[str] = None) -> Optional["ClusterNode"]:
        """The known node at ``host``/``port`` or named ``node_name``, or None."""
        return self.nodes_manager.get_node(host, port, node_name)

    def get_primaries(self) -> List["ClusterNode"]:
        return self.nodes_manager.get_nodes_by_server_type(PRIMARY)

    def get_replicas(self) -> List["ClusterNode"]:
        return self.nodes_manager.get_nodes_by_server_type(REPLICA)

    def get_random_node(self) -> "ClusterNode":
        return random.choice(list(self.nodes_manager.nodes_cache.values()))

    def get_random_primary_or_all_nodes(self, command_name: str) -> "ClusterNode":
        """Any node for a read command while replicas serve reads, else a
        random primary."""
        if self.read_from_replicas and command_name in READ_COMMANDS:
            return self.get_random_node()
        return self.get_random_primary_node()

    def get_nodes(self) -> List["ClusterNode"]:
        return list(self.nodes_manager.nodes_cache.values())

    def get_node_from_key(self, key: Any, replica: bool = False) -> Optional["ClusterNode"]:
        """The primary serving ``key``'s slot, or with ``replica`` its first
        replica (None when it has none)."""
        slot = self.keyslot(key)
        nodes = self.nodes_manager.slots_cache.get(slot)
        if nodes is None or len(nodes) == 0:
            raise SlotNotCoveredError(f'Slot "{slot}" is not covered by the cluster.')
        if replica:
            return nodes[1] if len(nodes) >= 2 else None
        return nodes[0]

    def get_default_node(self) -> Optional["ClusterNode"]:
        return self.nodes_manager.default_node

    def get_nodes_from_slot(self, command: str, *args: Any) -> List["ClusterNode"]:
        """[the node for the slot of ``args``' keys], a replica for a read
        command while replicas serve reads."""
        slot = self.determine_slot(*args)
        node = self.nodes_manager.get_node_from_slot(
            slot,
            self.read_from_replicas and command in READ_COMMANDS,
            self.load_balancing_strategy if command in READ_COMMANDS else None,
        )
        return [node]

    def _split_multi_shard_command(self, *args: Any, **kwargs: Any) -> List[Dict]:
        """One command per key, for the multi-shard request policy."""
        return [{"args": (args[0], key), "kwargs": kwargs}
                for key in self._get_command_keys(*args)]

    def get_special_nodes(self) -> Optional[List["ClusterNode"]]:
        """The nodes of the last FT.AGGREGATE (for FT.CURSOR)."""
        if not self._aggregate_nodes:
            raise RedisClusterException("Cannot execute FT.CURSOR commands without FT.AGGREGATE")
        return self._aggregate_nodes

    def get_random_primary_node(self) -> "ClusterNode":
        return random.choice(self.get_primaries())

    def _evaluate_all_succeeded(self, res: Any) -> Any:
        """The ALL_SUCCEEDED response policy: the first reply if all are
        truthy, else the first falsy one (as its type's False)."""
        first = None
        if isinstance(res, dict):
            for key, value in res.items():
                if not value:
                    return {key: False}
                if first is None:
                    first = {key: value}
            return first
        for reply in res:
            if not reply:
                return type(reply)(False)
            if first is None:
                first = type(reply)(reply)
        return first

    def set_default_node(self, node: Optional["ClusterNode"]) -> bool:
        """Make ``node`` (a known node) the default node; False if it is not known."""
        if node is None or self.get_node(node_name=node.name) is None:
            return False
        self.nodes_manager.default_node = node
        return True

    def set_retry(self, retry: Retry) -> None:
        self.retry = retry

    def monitor(self, target_node: Optional["ClusterNode"] = None) -> Any:
        """A Monitor on ``target_node`` (default: the default node)."""
        if target_node is None:
            target_node = self.get_default_node()
        if target_node.redis_connection is None:
            raise RedisClusterException(
                f"Cluster Node {target_node.name} has no redis_connection")
        return target_node.redis_connection.monitor()

    def pubsub(self, node: Optional["ClusterNode"] = None, host: Optional[str] = None,
               port: Optional[int] = None, **kwargs: Any) -> "ClusterPubSub":
        """A :class:`ClusterPubSub`: on ``node`` (or the node at ``host``/``port``),
        or, with neither, on the node of the first channel's slot."""
        return ClusterPubSub(self, node=node, host=host, port=port, **kwargs)

    def pipeline(self, transaction: Optional[bool] = None,
                 shard_hint: Optional[str] = None) -> "ClusterPipeline":
        """A :class:`ClusterPipeline` sharing this client's nodes, slot table,
        callbacks and retry policy: commands are queued and ``execute()`` sends
        each node its share in one write, all nodes at once.  With
        ``transaction=True`` the commands (keys of one slot) run in MULTI/EXEC on
        that slot's primary."""
        if shard_hint:
            raise RedisClusterException("shard_hint is deprecated in cluster mode")
        pipe = ClusterPipeline(
            nodes_manager=self.nodes_manager,
            commands_parser=self.commands_parser,
            startup_nodes=self.nodes_manager.startup_nodes,
            result_callbacks=self.result_callbacks,
            cluster_response_callbacks=self.cluster_response_callbacks,
            read_from_replicas=self.read_from_replicas,
            load_balancing_strategy=self.load_balancing_strategy,
            reinitialize_steps=self.reinitialize_steps,
            retry=self.retry,
            lock=self._lock,
            transaction=transaction,
            event_dispatcher=self._event_dispatcher,
            policy_resolver=self._policy_resolver,
            encoding=self.encoder.encoding,
            encoding_errors=self.encoder.encoding_errors,
            decode_responses=self.encoder.decode_responses,
        )
        if self._slot_table is self.nodes_manager.slots_cache:
            # route with this client's tables instead of building them again
            _native._share_router(pipe, self)
            pipe._router_ready = True
        return pipe

    def lock(self, name: str, timeout: Optional[float] = None, sleep: float = 0.1,
             blocking: bool = True, blocking_timeout: Optional[float] = None,
             lock_class: Optional[Any] = None, thread_local: bool = True,
             raise_on_release_error: bool = True) -> Any:
        """A Lock named ``name`` (see :class:`redis_native.lock.Lock`); its
        Lua scripts run on the node of ``name``'s slot."""
        if lock_class is None:
            lock_class = Lock
        return lock_class(self, name, timeout=timeout, sleep=sleep, blocking=blocking,
                          blocking_timeout=blocking_timeout, thread_local=thread_local,
                          raise_on_release_error=raise_on_release_error)

    def set_response_callback(self, command: str, callback: Callable) -> None:
        """Post-process ``command``'s result with ``callback(result, **options)``
        (after the node's own callback)."""
        self.cluster_response_callbacks[command] = callback

    # -- routing -------------------------------------------------------------
    def _determine_nodes(self, *args: Any, request_policy: RequestPolicy,
                         **kwargs: Any) -> List["ClusterNode"]:
        """The nodes a command goes to, from its flag or ``request_policy``."""
        command = args[0].upper()
        if len(args) >= 2 and f"{args[0]} {args[1]}".upper() in self.command_flags:
            command = f"{args[0]} {args[1]}".upper()
        nodes_flag = kwargs.pop("nodes_flag", None)
        command_flag = nodes_flag if nodes_flag is not None else self.command_flags.get(command)
        if command_flag in self._command_flags_mapping:
            request_policy = self._command_flags_mapping[command_flag]
        callback = self._policies_callback_mapping[request_policy]
        if request_policy == RequestPolicy.DEFAULT_KEYED:
            nodes = callback(command, *args)
        elif request_policy == RequestPolicy.MULTI_SHARD:
            nodes = callback(*args, **kwargs)
        elif request_policy == RequestPolicy.DEFAULT_KEYLESS:
            nodes = callback(args[0])
        else:
            nodes = callback()
        if args[0].lower() == "ft.aggregate":
            self._aggregate_nodes = nodes
        return nodes

    def _should_reinitialized(self) -> bool:
        """Whether this MOVED should refresh the whole topology."""
        if self.reinitialize_steps == 0:
            return False
        return self.reinitialize_counter % self.reinitialize_steps == 0

    def keyslot(self, key: Any) -> int:
        """The hash slot of ``key`` (encoded as the client encodes arguments)."""
        return self._keyslot(key)

    def _get_command_keys(self, *args: Any) -> Optional[List[Any]]:
        """The keys of a command, from the COMMAND table (asking the default
        node for commands with movable keys)."""
        redis_conn = self.get_default_node().redis_connection
        return self.commands_parser.get_keys(redis_conn, *args)

    def determine_slot(self, *args: Any) -> Optional[int]:
        """The one slot the keys of ``args`` hash to.  RedisClusterException
        when the command has no key or its keys span several slots."""
        command = args[0]
        if self.command_flags.get(command) == SLOT_ID:
            return args[1]
        if command.upper() == "CLIENT TRACKING":
            return None
        if command.upper() in ("EVAL", "EVALSHA"):
            if len(args) <= 2:
                raise RedisClusterException(f"Invalid args in command: {args}")
            keys = args[3: 3 + int(args[2])]
            if len(keys) == 0:
                return random.randrange(0, REDIS_CLUSTER_HASH_SLOTS)
        else:
            keys = self._get_command_keys(*args)
        return _slot_of_keys(self, command, keys, args)

    def get_encoder(self) -> Encoder:
        return self.encoder

    def get_connection_kwargs(self) -> Dict[str, Any]:
        return self.nodes_manager.connection_kwargs

    def _is_nodes_flag(self, target_nodes: Any) -> bool:
        return isinstance(target_nodes, str) and target_nodes in self.node_flags

    def _parse_target_nodes(self, target_nodes: Any) -> Any:
        if isinstance(target_nodes, list):
            return target_nodes
        if isinstance(target_nodes, ClusterNode):
            return [target_nodes]
        if isinstance(target_nodes, dict):
            return target_nodes.values()
        raise TypeError(
            "target_nodes type can be one of the following: node_flag (PRIMARIES, REPLICAS, "
            "RANDOM, ALL_NODES),ClusterNode, list<ClusterNode>, or dict<any, ClusterNode>. "
            f"The passed type is {type(target_nodes)}"
        )

    # execute_command is C (_native.ClusterBase); what it does not route
    # itself comes here.
    def _internal_execute_command(self, *args: Any, **kwargs: Any) -> Any:
        """Run a command on its node(s) and combine the replies, trying again
        on a refreshed topology after the errors of ``ERRORS_ALLOW_RETRY``
        (as often as ``self.retry`` allows; never with explicit
        ``target_nodes``, which may not exist any more)."""
        return self._run_command(args, kwargs, None, None)

    def _resume_command(self, target_node: "ClusterNode", error: BaseException,
                        *args: Any, **kwargs: Any) -> Any:
        """The C router ran the command once on ``target_node`` and it failed
        with ``error``: carry on exactly as :meth:`_internal_execute_command`
        would have after that first attempt."""
        return self._run_command(args, kwargs, target_node, error)

    def _run_command(self, args: Tuple, kwargs: Dict[str, Any],
                     first_node: Optional["ClusterNode"],
                     first_error: Optional[BaseException]) -> Any:
        target_nodes_specified = False
        is_default_node = False
        target_nodes = None
        passed_targets = kwargs.pop("target_nodes", None)
        if first_error is not None:
            # routed by C: a keyed command without flag or policy
            command_policies = CommandPolicies(request_policy=RequestPolicy.DEFAULT_KEYED,
                                               response_policy=ResponsePolicy.DEFAULT_KEYED)
        else:
            command_policies = self._policy_resolver.resolve(args[0].lower())
        if passed_targets is not None and not self._is_nodes_flag(passed_targets):
            target_nodes = self._parse_target_nodes(passed_targets)
            target_nodes_specified = True
        if not command_policies and not target_nodes_specified:
            command = args[0].upper()
            if len(args) >= 2 and f"{args[0]} {args[1]}".upper() in self.command_flags:
                command = f"{args[0]} {args[1]}".upper()
            command_flag = self.command_flags.get(command)
            if not command_flag:
                slot = self.determine_slot(*args) if self.get_default_node() else None
                if slot is None:
                    command_policies = CommandPolicies()
                else:
                    command_policies = CommandPolicies(
                        request_policy=RequestPolicy.DEFAULT_KEYED,
                        response_policy=ResponsePolicy.DEFAULT_KEYED,
                    )
            elif command_flag in self._command_flags_mapping:
                command_policies = CommandPolicies(
                    request_policy=self._command_flags_mapping[command_flag])
            else:
                command_policies = CommandPolicies()
        elif not command_policies and target_nodes_specified:
            command_policies = CommandPolicies()

        retry_attempts = 0 if target_nodes_specified else self.retry.get_retries()
        for _ in range(1 + retry_attempts):
            try:
                res = {}
                if first_error is not None:
                    node, error = first_node, first_error
                    first_node = first_error = None
                    target_nodes = [node]
                    is_default_node = node == self.get_default_node()
                    res[node.name] = self._execute_on_node(node, args, kwargs, error)
                else:
                    if not target_nodes_specified:
                        target_nodes = self._determine_nodes(
                            *args, request_policy=command_policies.request_policy,
                            nodes_flag=passed_targets)
                        if not target_nodes:
                            raise RedisClusterException(
                                f"No targets were found to execute {args} command on")
                        is_default_node = (len(target_nodes) == 1
                                           and target_nodes[0] == self.get_default_node())
                    for node in target_nodes:
                        res[node.name] = self._execute_command(node, *args, **kwargs)
                        if command_policies.response_policy == ResponsePolicy.ONE_SUCCEEDED:
                            break
                return self._process_result(args[0], res,
                                            response_policy=command_policies.response_policy,
                                            **kwargs)
            except Exception as e:
                if retry_attempts > 0 and type(e) in self.__class__.ERRORS_ALLOW_RETRY:
                    if is_default_node:
                        self.replace_default_node()
                    retry_attempts -= 1
                    continue
                raise e

    def _execute_command(self, target_node: "ClusterNode", *args: Any, **kwargs: Any) -> Any:
        """Run a command on ``target_node``, following MOVED/ASK/TRYAGAIN up
        to ``RedisClusterRequestTTL`` times."""
        return self._execute_on_node(target_node, args, kwargs, None)

    def _execute_on_node(self, target_node: "ClusterNode", args: Tuple,
                         kwargs: Dict[str, Any], error: Optional[BaseException]) -> Any:
        """The loop of :meth:`_execute_command`; ``error``, when given, is the
        outcome of a first attempt already made on ``target_node``."""
        command = args[0]
        asking = moved = False
        redirect_addr = None
        ttl = int(self.RedisClusterRequestTTL)
        while ttl > 0:
            ttl -= 1
            if error is None:
                try:
                    if asking:
                        target_node = self.get_node(node_name=redirect_addr)
                    elif moved:
                        # the slot table was patched or refreshed: look again
                        slot = self.determine_slot(*args)
                        target_node = self.nodes_manager.get_node_from_slot(
                            slot,
                            self.read_from_replicas and command in READ_COMMANDS,
                            self.load_balancing_strategy if command in READ_COMMANDS else None,
                        )
                        moved = False
                    redis_node = self.get_redis_connection(target_node)
                    if asking:
                        asking = False
                        response = self._execute_asking(redis_node, args, kwargs)
                    else:
                        response = _node_command(redis_node, args, kwargs)
                    kwargs.pop("keys", None)
                    if command in self.cluster_response_callbacks:
                        response = self.cluster_response_callbacks[command](response, **kwargs)
                    return response
                except Exception as e:
                    error = e
            e, error = error, None
            if isinstance(e, (AuthenticationError, MaxConnectionsError)):
                raise e
            if isinstance(e, (ConnectionError, TimeoutError)):
                self._forget_node_connections(target_node)
                raise e
            if isinstance(e, MovedError):
                # patch the slot table with the new owner; every
                # reinitialize_steps MOVED replies, refresh everything
                self.reinitialize_counter += 1
                if self._should_reinitialized():
                    self.nodes_manager.initialize(additional_startup_nodes_info=[(e.host, e.port)])
                    self.reinitialize_counter = 0
                else:
                    self.nodes_manager.move_slot(e)
                moved = True
                continue
            if isinstance(e, TryAgainError):
                if ttl < self.RedisClusterRequestTTL / 2:
                    time.sleep(0.05)
                continue
            if isinstance(e, AskError):
                redirect_addr = get_node_name(host=e.host, port=e.port)
                asking = True
                continue
            if isinstance(e, (ClusterDownError, SlotNotCoveredError)):
                # a failover in progress, or a topology not settled yet
                time.sleep(0.25)
                self.nodes_manager.initialize()
                raise e
            raise e
        raise ClusterError("TTL exhausted.")

    def _execute_asking(self, redis_node: Redis, args: Tuple, kwargs: Dict[str, Any]) -> Any:
        """ASKING and the command on one connection of ``redis_node`` (its own
        ``connection`` when it has one, as its execute_command would use)."""
        connection = redis_node.connection
        pool = None
        if connection is None:
            pool = redis_node.connection_pool
            connection = pool.get_connection()
        try:
            connection.send_command("ASKING")
            redis_node.parse_response(connection, "ASKING", **kwargs)
            connection.send_command(*args, **kwargs)
            return redis_node.parse_response(connection, args[0], **kwargs)
        except ResponseError:
            raise                       # the reply was read: the connection is in step
        except BaseException:
            connection.disconnect()
            raise
        finally:
            if pool is not None:
                pool.release(connection)

    def _forget_node_connections(self, target_node: "ClusterNode") -> None:
        """After a connection error on ``target_node``: drop its idle
        connections, try it last from now on, and refresh the topology."""
        redis_conn = target_node.redis_connection if target_node is not None else None
        if redis_conn is not None:
            pool = redis_conn.connection_pool
            if pool is not None:
                pool.disconnect_free_connections()
        if target_node is not None:
            self.nodes_manager.move_node_to_end_of_cached_nodes(target_node.name)
        self.nodes_manager.initialize()

    def close(self) -> None:
        """Close every node's client."""
        try:
            with self._lock:
                if self.nodes_manager:
                    self.nodes_manager.close()
        except AttributeError:
            pass                        # __init__ failed before these existed

    def _process_result(self, command: Any, res: Dict[str, Any],
                        response_policy: ResponsePolicy, **kwargs: Any) -> Any:
        """Combine the replies of the nodes (``{node name: reply}``): the
        command's result callback, or the only reply as it is."""
        if command in self.result_callbacks:
            res = self.result_callbacks[command](command, res, **kwargs)
        elif len(res) == 1:
            res = list(res.values())[0]
        return self._policies_callback_mapping[response_policy](res)

    def load_external_module(self, funcname: str, func: Any) -> None:
        """Attach ``func`` to this client as ``funcname``."""
        setattr(self, funcname, func)

    def transaction(self, func: Callable, *watches: Any, **kwargs: Any) -> Any:
        """Run ``func(pipe)`` in a WATCH/MULTI/EXEC transaction on ``watches``
        (keys of one slot), calling it again whenever a watched key changed;
        returns EXEC's results, or with ``value_from_callable=True`` what
        ``func`` returned.  ``watch_delay`` seconds are slept between tries."""
        return Redis.transaction(self, func, *watches, **kwargs)  # the same loop

# the routing methods above are the ones the C router may stand in for
_native._declare_builtin(RedisCluster)


def _node_command(redis_node: Any, args: Tuple, kwargs: Dict[str, Any]) -> Any:
    """One command on a node client through its own command path (pool,
    retry, parse_response), not through whatever its class or a patch puts
    under ``execute_command``: redis-py sends cluster commands to a node with
    send_command/parse_response, so a tracer wrapping
    ``Redis.execute_command`` never sees them there."""
    if isinstance(redis_node, _native.ClientBase):
        return _native.ClientBase.execute_command(redis_node, *args, **kwargs)
    return redis_node.execute_command(*args, **kwargs)


class ClusterNode:
    """One node of the cluster: address, role (``server_type``: ``"primary"``
    or ``"replica"``) and its Redis client (``redis_connection``)."""

    def __init__(self, host: str, port: int, server_type: Optional[str] = None,
                 redis_connection: Optional[Redis] = None) -> None:
        if host == "localhost":
            host = socket.gethostbyname(host)
        self.host = host
        self.port = port
        self.name = get_node_name(host, port)
        self.server_type = server_type
        self.redis_connection = redis_connection

    def __repr__(self) -> str:
        return (f"[host={self.host},port={self.port},name={self.name},"
                f"server_type={self.server_type},redis_connection={self.redis_connection}]")

    def __eq__(self, obj: Any) -> bool:
        return isinstance(obj, ClusterNode) and obj.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class LoadBalancingStrategy(Enum):
    """How read commands are spread over a slot's nodes."""

    ROUND_ROBIN = "round_robin"
    ROUND_ROBIN_REPLICAS = "round_robin_replicas"
    RANDOM_REPLICA = "random_replica"


class LoadBalancer:
    """Round-robin position per primary (and random replica choice)."""

    def __init__(self, start_index: int = 0) -> None:
        self.primary_to_idx: Dict[str, int] = {}
        self.start_index: int = start_index
        self._lock: threading.Lock = threading.Lock()

    def get_server_index(
        self,
        primary: str,
        list_size: int,
        load_balancing_strategy: LoadBalancingStrategy = LoadBalancingStrategy.ROUND_ROBIN,
    ) -> int:
        """Index into the slot's node list ``[primary, replica...]`` of the
        node to read from next."""
        if load_balancing_strategy == LoadBalancingStrategy.RANDOM_REPLICA:
            return self._get_random_replica_index(list_size)
        return self._get_round_robin_index(
            primary, list_size,
            load_balancing_strategy == LoadBalancingStrategy.ROUND_ROBIN_REPLICAS)

    def reset(self) -> None:
        with self._lock:
            self.primary_to_idx.clear()

    def _get_random_replica_index(self, list_size: int) -> int:
        return random.randint(1, list_size - 1)

    def _get_round_robin_index(self, primary: str, list_size: int, replicas_only: bool) -> int:
        with self._lock:
            index = self.primary_to_idx.setdefault(primary, self.start_index)
            if replicas_only and index == 0:
                index = 1               # skip the primary
            self.primary_to_idx[primary] = (index + 1) % list_size
            return index


class SlotsCache(_native.SlotTable, MutableMapping):
    """``NodesManager.slots_cache``: slot -> ``[primary, replica...]``.

    A mapping like redis-py's dict, stored in C (``_native.SlotTable``) so the
    router reads a slot's primary without Python.  Slots are ints 0..16383,
    values lists of :class:`ClusterNode`."""

    def __repr__(self) -> str:
        return f"<SlotsCache: {len(self)} slots covered>"


class NodesManager:
    """The cluster's topology: nodes, slot owners, the default node, and one
    Redis client per node.  Safe to share between threads; a refresh builds
    the new tables aside and swaps them in under the lock."""

    def __init__(
        self,
        startup_nodes: List[ClusterNode],
        from_url: bool = False,
        require_full_coverage: bool = False,
        lock: Optional[threading.RLock] = None,
        dynamic_startup_nodes: bool = True,
        connection_pool_class: type = ConnectionPool,
        address_remap: Optional[Callable[[Tuple[str, int]], Tuple[str, int]]] = None,
        cache: Optional[Any] = None,
        cache_config: Optional[Any] = None,
        cache_factory: Optional[Any] = None,
        event_dispatcher: Optional[EventDispatcher] = None,
        maint_notifications_config: Optional[Any] = None,
        **kwargs: Any,
    ):
        self.nodes_cache: Dict[str, ClusterNode] = {}
        self._slots_cache = SlotsCache()
        self.startup_nodes: Dict[str, ClusterNode] = {n.name: n for n in startup_nodes}
        self.default_node: Optional[ClusterNode] = None
        self._epoch: int = 0
        self.from_url = from_url
        self._require_full_coverage = require_full_coverage
        self._dynamic_startup_nodes = dynamic_startup_nodes
        self.connection_pool_class = connection_pool_class
        self.address_remap = address_remap
        if cache is not None or cache_config is not None or cache_factory is not None:
            raise RedisError("Client caching is only supported with RESP version 3")
        self._cache = None
        self.connection_kwargs = kwargs
        self.read_load_balancer = LoadBalancer()
        # nodes_cache, slots_cache, startup_nodes and default_node change
        # under _lock; a refresh holds _initialization_lock first (always in
        # that order), so concurrent refreshes collapse into one
        self._lock = lock if lock is not None else threading.RLock()
        self._initialization_lock: threading.RLock = threading.RLock()
        self._event_dispatcher = event_dispatcher if event_dispatcher is not None \
            else EventDispatcher()
        self._credential_provider = self.connection_kwargs.get("credential_provider", None)
        self.maint_notifications_config = maint_notifications_config
        self.initialize()

    @property
    def slots_cache(self) -> SlotsCache:
        """slot -> [primary, replica...] (the table the C router reads)."""
        return self._slots_cache

    @slots_cache.setter
    def slots_cache(self, value: Any) -> None:
        # the router holds this very table: fill it instead of replacing it
        self._slots_cache.replace(dict(value))

    def get_node(self, host: Optional[str] = None, port: Optional[int] = None,
                 node_name: Optional[str] = None) -> Optional[ClusterNode]:
        """The known node at ``host``/``port`` or named ``node_name``, or None."""
        if host and port:
            if host == "localhost":
                host = socket.gethostbyname(host)
            with self._lock:
                return self.nodes_cache.get(get_node_name(host=host, port=port))
        if node_name:
            with self._lock:
                return self.nodes_cache.get(node_name)
        return None

    def move_slot(self, e: Union[AskError, MovedError]) -> None:
        """Record that ``e.slot_id`` is served by ``e.host:e.port`` now."""
        with self._lock:
            node = self.get_node(host=e.host, port=e.port)
            if node is None:
                node = ClusterNode(e.host, e.port, PRIMARY)
                self.nodes_cache[node.name] = node
            elif node.server_type is not PRIMARY:
                node.server_type = PRIMARY
            slot_nodes = self.slots_cache[e.slot_id]
            if node not in slot_nodes:
                # another shard took the slot: it alone serves it now
                self.slots_cache[e.slot_id] = [node]
            elif node is not slot_nodes[0]:
                # a failover: a replica of the slot became its primary (the
                # list is shared by the whole slot range, which moves with it)
                old_primary = slot_nodes[0]
                old_primary.server_type = REPLICA
                slot_nodes.append(old_primary)
                slot_nodes.remove(node)
                slot_nodes[0] = node
                if self.default_node == old_primary:
                    self.default_node = node

    @deprecated_args(
        args_to_warn=["server_type"],
        reason=("In case you need select some load balancing strategy that will use "
                "replicas, please set it through 'load_balancing_strategy'"),
        version="5.3.0",
    )
    def get_node_from_slot(
        self,
        slot: int,
        read_from_replicas: bool = False,
        load_balancing_strategy: Optional[LoadBalancingStrategy] = None,
        server_type: Optional[Literal["primary", "replica"]] = None,
    ) -> ClusterNode:
        """The node to use for ``slot``: its primary, or per the load
        balancing strategy one of its nodes.  SlotNotCoveredError if no node
        serves it."""
        if read_from_replicas is True and load_balancing_strategy is None:
            load_balancing_strategy = LoadBalancingStrategy.ROUND_ROBIN
        with self._lock:
            nodes = self.slots_cache.get(slot)
            if nodes is None or len(nodes) == 0:
                raise SlotNotCoveredError(
                    f'Slot "{slot}" not covered by the cluster. '
                    f'"require_full_coverage={self._require_full_coverage}"')
            if len(nodes) > 1 and load_balancing_strategy:
                index = self.read_load_balancer.get_server_index(
                    nodes[0].name, len(nodes), load_balancing_strategy)
            elif server_type is None or server_type == PRIMARY or len(nodes) == 1:
                index = 0
            else:
                index = random.randint(1, len(nodes) - 1)
            return nodes[index]

    def get_nodes_by_server_type(self, server_type: Literal["primary", "replica"]) -> List[ClusterNode]:
        with self._lock:
            return [n for n in self.nodes_cache.values() if n.server_type == server_type]

    @deprecated_function(
        reason="This method is not used anymore internally. The startup nodes are populated "
               "automatically.",
        version="7.0.2",
    )
    def populate_startup_nodes(self, nodes: List[ClusterNode]) -> None:
        with self._lock:
            for n in nodes:
                self.startup_nodes[n.name] = n

    def move_node_to_end_of_cached_nodes(self, node_name: str) -> None:
        """Try a failing node last: at the end of ``startup_nodes`` and
        ``nodes_cache`` (which orders the choice of the default node)."""
        with self._lock:
            if node_name in self.startup_nodes and len(self.startup_nodes) > 1:
                self.startup_nodes[node_name] = self.startup_nodes.pop(node_name)
            if node_name in self.nodes_cache and len(self.nodes_cache) > 1:
                self.nodes_cache[node_name] = self.nodes_cache.pop(node_name)

    def check_slots_coverage(self, slots_cache: Any) -> bool:
        """Whether every slot 0..16383 has an entry in ``slots_cache``."""
        if isinstance(slots_cache, _native.SlotTable):
            return len(slots_cache) == REDIS_CLUSTER_HASH_SLOTS   # it holds no other keys
        if isinstance(slots_cache, dict):
            return slots_cache.keys() >= _ALL_SLOTS
        return all(i in slots_cache for i in range(REDIS_CLUSTER_HASH_SLOTS))

    def create_redis_connections(self, nodes: List[ClusterNode]) -> None:
        """Give every node of ``nodes`` without one its Redis client."""
        pools = []
        for node in nodes:
            if node.redis_connection is None:
                node.redis_connection = self.create_redis_node(
                    host=node.host, port=node.port,
                    maint_notifications_config=self.maint_notifications_config,
                    **self.connection_kwargs)
                pools.append(node.redis_connection.connection_pool)
        self._event_dispatcher.dispatch(AfterPooledConnectionsInstantiationEvent(
            pools, ClientType.SYNC, self._credential_provider))

    def create_redis_node(self, host: str, port: int, **kwargs: Any) -> Redis:
        """A Redis client for one node.  Its connections do not retry: the
        cluster client retries, after looking at the topology again."""
        node_retry = Retry(backoff=NoBackoff(), retries=0, supported_errors=(ConnectionError,))
        if self.from_url:
            kwargs.update({"host": host, "port": port, "retry": node_retry})
            kwargs.pop("maint_notifications_config", None)
            return Redis(connection_pool=self.connection_pool_class(**kwargs))
        return Redis(host=host, port=port, retry=node_retry, **kwargs)

    def _get_or_create_cluster_node(self, host: str, port: int, role: str,
                                    tmp_nodes_cache: Dict[str, ClusterNode]) -> ClusterNode:
        """The node ``host:port`` of the topology being built, keeping the
        Redis client of the current topology's node of that name."""
        name = get_node_name(host, port)
        node = tmp_nodes_cache.get(name)
        if node is None:
            with self._lock:
                previous = self.nodes_cache.get(name)
                client = previous.redis_connection if previous else None
            node = ClusterNode(host, port, role, client)
            tmp_nodes_cache[node.name] = node
        return node

    def _get_epoch(self) -> int:
        with self._lock:
            return self._epoch

    def initialize(self, additional_startup_nodes_info: Optional[List[Tuple[str, int]]] = None,
                   disconnect_startup_nodes_pools: bool = True) -> None:
        """Discover the topology with CLUSTER SLOTS from the startup nodes
        (and ``additional_startup_nodes_info``), until one gives a view that
        covers every slot, then swap it in.  A refresh that another thread
        finished meanwhile is not repeated."""
        self.reset()
        tmp_nodes_cache: Dict[str, ClusterNode] = {}
        tmp_slots: Dict[int, List[ClusterNode]] = {}
        disagreements: List[str] = []
        reachable = False
        fully_covered = False
        kwargs = self.connection_kwargs
        exception: Optional[BaseException] = None
        epoch = self._get_epoch()
        extra = [ClusterNode(h, p) for h, p in (additional_startup_nodes_info or [])]

        with self._initialization_lock:
            with self._lock:
                if epoch != self._epoch:
                    return              # refreshed by another thread meanwhile
                startup_nodes = tuple(self.startup_nodes.values())
            for startup_node in (*startup_nodes, *extra):
                try:
                    r = startup_node.redis_connection
                    if not r:
                        r = self.create_redis_node(
                            startup_node.host, startup_node.port,
                            maint_notifications_config=self.maint_notifications_config,
                            **kwargs)
                        if startup_node in self.startup_nodes.values():
                            self.startup_nodes[startup_node.name].redis_connection = r
                        else:
                            startup_node.redis_connection = r
                    try:
                        cluster_slots = str_if_bytes(r.execute_command("CLUSTER SLOTS"))
                        if disconnect_startup_nodes_pools:
                            # idle connections may carry READONLY that no
                            # longer applies: they reconnect on next use
                            r.connection_pool.disconnect_free_connections()
                    except ResponseError:
                        raise RedisClusterException("Cluster mode is not enabled on this node")
                    reachable = True
                except Exception as e:
                    exception = e
                    continue

                # one node alone may announce its address as ""
                if (len(cluster_slots) == 1 and len(cluster_slots[0][2][0]) == 0
                        and len(self.startup_nodes) == 1):
                    cluster_slots[0][2][0] = startup_node.host

                for entry in cluster_slots:
                    primary = entry[2]
                    host = str_if_bytes(primary[0]) or startup_node.host
                    host, port = self.remap_host_port(host, int(primary[1]))
                    owner = self._get_or_create_cluster_node(host, port, PRIMARY, tmp_nodes_cache)
                    nodes_for_range = [owner]
                    for replica in entry[3:]:
                        rhost, rport = self.remap_host_port(str_if_bytes(replica[0]),
                                                            int(replica[1]))
                        nodes_for_range.append(self._get_or_create_cluster_node(
                            rhost, rport, REPLICA, tmp_nodes_cache))
                    slot_range = range(int(entry[0]), int(entry[1]) + 1)
                    if tmp_slots.keys().isdisjoint(slot_range):
                        # the usual case, in one step: a range no one claimed yet
                        tmp_slots.update(dict.fromkeys(slot_range, nodes_for_range))
                        continue
                    for slot in slot_range:
                        if slot not in tmp_slots:
                            tmp_slots[slot] = nodes_for_range
                        elif tmp_slots[slot][0].name != owner.name:
                            disagreements.append(
                                f"{tmp_slots[slot][0].name} vs {owner.name} on slot: {slot}")
                            if len(disagreements) > 5:
                                raise RedisClusterException(
                                    "startup_nodes could not agree on a valid slots cache: "
                                    f"{', '.join(disagreements)}")

                fully_covered = self.check_slots_coverage(tmp_slots)
                if fully_covered:
                    break

            if not reachable:
                raise RedisClusterException(
                    "Redis Cluster cannot be connected. Please provide at least one reachable "
                    f"node: {str(exception)}") from exception

            self.create_redis_connections(list(tmp_nodes_cache.values()))
            if not fully_covered and self._require_full_coverage:
                raise RedisClusterException(
                    "All slots are not covered after query all startup_nodes. "
                    f"{len(tmp_slots)} of {REDIS_CLUSTER_HASH_SLOTS} covered...")

            with self._lock:
                self.nodes_cache = tmp_nodes_cache
                self._slots_cache.replace(tmp_slots)
                self.default_node = self.get_nodes_by_server_type(PRIMARY)[0]
                if self._dynamic_startup_nodes:
                    self.startup_nodes = tmp_nodes_cache
                self._epoch += 1

    def close(self) -> None:
        with self._lock:
            self.default_node = None
            nodes = tuple(self.nodes_cache.values())
        for node in nodes:
            if node.redis_connection:
                node.redis_connection.close()

    def reset(self) -> None:
        try:
            self.read_load_balancer.reset()
        except TypeError:
            pass

    def remap_host_port(self, host: str, port: int) -> Tuple[str, int]:
        """``address_remap((host, port))``, or the address unchanged."""
        if self.address_remap:
            return self.address_remap((host, port))
        return host, port

    def find_connection_owner(self, connection: Connection) -> Optional[ClusterNode]:
        """The node whose pool made ``connection``, or None."""
        name = get_node_name(connection.host, connection.port)
        with self._lock:
            for node in tuple(self.nodes_cache.values()):
                if node.redis_connection:
                    conn_args = node.redis_connection.connection_pool.connection_kwargs
                    if name == get_node_name(conn_args.get("host"), conn_args.get("port")):
                        return node
        return None


# =====================================================================
# ClusterPipeline, cluster transactions and ClusterPubSub
# =====================================================================
#
# How a cluster pipeline runs (PipelineStrategy._send_cluster_commands):
# the queued (args, options) commands are grouped by node in C
# (_native._route_stack: the C router's rules, so a keyed command costs a
# hash and a table read); what the router leaves alone (explicit
# target_nodes, flags, policies, replica reads) is routed here as redis-py
# routes it.  One connection per node is taken from the node's pool, and
# _native._roundtrip_many writes each node's commands in one packed write
# and waits on all the sockets at once (one poll(), GIL released).  Each
# reply becomes a result through the node client's _command_result, the
# same step as Pipeline's.  The commands that failed with MOVED, ASK,
# TRYAGAIN or a connection error are then run again one by one through
# RedisCluster.execute_command, which follows the redirection, as redis-py
# does.  A node whose connection or client was replaced (the stand-in rule)
# is written with send_packed_command and read with parse_response instead.

import select  # noqa: E402
import sys  # noqa: E402
from abc import ABC, abstractmethod  # noqa: E402
from copy import copy  # noqa: E402
from itertools import chain  # noqa: E402
from typing import Iterator, Set  # noqa: E402

from .client import PubSub, _CallbackMemo  # noqa: E402
from .commands.helpers import EMPTY_RESPONSE as _EMPTY_RESPONSE  # noqa: E402
from .event import AfterPubSubConnectionInstantiationEvent  # noqa: E402
from .exceptions import ExecAbortError, InvalidPipelineStack  # noqa: E402

__all__ += ["ClusterPipeline", "ClusterPubSub", "PipelineCommand", "NodeCommands",
            "PipelineStrategy", "TransactionStrategy"]


class ClusterPipeline(RedisCluster):
    """A pipeline on a Redis Cluster, as redis-py's ``ClusterPipeline``
    (``RedisCluster.pipeline()``).

    Commands are queued and :meth:`execute` returns their results in the
    order queued.  Each node receives its commands in one write and the nodes
    work in parallel.  Commands answered with MOVED, ASK or TRYAGAIN, or lost
    to a connection error, are run again one by one, redirections followed.
    An error reply does not stop the others: ``execute()`` raises the first
    one (``raise_on_error=False`` returns it in place of the result).
    Commands that need several nodes or have no key (``mget``, ``keys``,
    ``rename``...) are refused with RedisClusterException, as in redis-py.

    With ``transaction=True`` every command must have keys of one slot: the
    block runs in MULTI/EXEC on that slot's primary, with WATCH/MULTI as on
    a single-node pipeline.
    """

    ERRORS_ALLOW_RETRY = (ConnectionError, TimeoutError, MovedError, AskError, TryAgainError)

    NO_SLOTS_COMMANDS = {"UNWATCH"}
    IMMEDIATE_EXECUTE_COMMANDS = {"WATCH", "UNWATCH"}
    UNWATCH_COMMANDS = {"DISCARD", "EXEC", "UNWATCH"}

    @deprecated_args(args_to_warn=["cluster_error_retry_attempts"],
                     reason="Please configure the 'retry' object instead", version="6.0.0")
    def __init__(
        self,
        nodes_manager: "NodesManager",
        commands_parser: "CommandsParser",
        result_callbacks: Optional[Dict[str, Callable]] = None,
        cluster_response_callbacks: Optional[Dict[str, Callable]] = None,
        startup_nodes: Optional[List["ClusterNode"]] = None,
        read_from_replicas: bool = False,
        load_balancing_strategy: Optional["LoadBalancingStrategy"] = None,
        cluster_error_retry_attempts: int = 3,
        reinitialize_steps: int = 5,
        retry: Optional[Retry] = None,
        lock: Any = None,
        transaction: bool = False,
        policy_resolver: PolicyResolver = StaticPolicyResolver(),
        event_dispatcher: Optional[EventDispatcher] = None,
        **kwargs: Any,
    ):
        """Built by :meth:`RedisCluster.pipeline`; shares the cluster
        client's ``nodes_manager`` (nodes, slot table, connection pools)."""
        # RedisCluster.__init__ is not called: the pipeline uses the client's
        # topology instead of discovering its own
        self.command_stack: List[Any] = []
        self.scripts: Set[Any] = set()
        self.nodes_manager = nodes_manager
        self.commands_parser = commands_parser
        self.refresh_table_asap = False
        self.result_callbacks = result_callbacks or self.__class__.RESULT_CALLBACKS.copy()
        self.startup_nodes = startup_nodes if startup_nodes else []
        self.read_from_replicas = read_from_replicas
        self.load_balancing_strategy = load_balancing_strategy
        self.command_flags = self.__class__.COMMAND_FLAGS.copy()
        self.node_flags = self.__class__.NODE_FLAGS.copy()
        self.cluster_response_callbacks = (
            cluster_response_callbacks if cluster_response_callbacks is not None
            else CaseInsensitiveDict(self.__class__.CLUSTER_COMMANDS_RESPONSE_CALLBACKS))
        self.reinitialize_counter = 0
        self.reinitialize_steps = reinitialize_steps
        if retry is not None:
            self.retry = retry
        else:
            self.retry = Retry(backoff=ExponentialWithJitterBackoff(base=1, cap=10),
                               retries=cluster_error_retry_attempts)
        self.encoder = Encoder(kwargs.get("encoding", "utf-8"),
                               kwargs.get("encoding_errors", "strict"),
                               kwargs.get("decode_responses", False))
        self._key_encoding = self.encoder.encoding
        self._key_encoding_errors = self.encoder.encoding_errors
        if lock is None:
            lock = threading.RLock()
        self._lock = lock
        self._aggregate_nodes = None
        self.parent_execute_command = super().execute_command
        self._init_policy_tables(policy_resolver)
        self._event_dispatcher = event_dispatcher if event_dispatcher is not None \
            else EventDispatcher()
        # the C router's tables: set by RedisCluster.pipeline(), else built
        # on first use (_ensure_router)
        self._router_ready = False
        self._execution_strategy: "ExecutionStrategy" = (
            PipelineStrategy(self) if not transaction else TransactionStrategy(self))

    def _ensure_router(self) -> None:
        if not self._router_ready:
            self._slot_table = self.nodes_manager.slots_cache
            self._read_commands = set(READ_COMMANDS)
            self._key_specs = self._router_key_specs()
            self._router_ready = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}"

    def __enter__(self) -> "ClusterPipeline":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.reset()

    def __del__(self) -> None:
        try:
            self.reset()
        except Exception:
            pass

    def __len__(self) -> int:
        return len(self._execution_strategy.command_queue)

    def __bool__(self) -> bool:
        """A pipeline is true even when no command is queued."""
        return True

    def close(self) -> None:
        """Same as :meth:`reset`: the nodes' pools belong to the cluster client."""
        self.reset()

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        """Queue a command (a transaction runs WATCH, and the commands between
        WATCH and MULTI, at once)."""
        return self._execution_strategy.execute_command(*args, **kwargs)

    def pipeline_execute_command(self, *args: Any, **options: Any) -> Any:
        """Queue a command; returns the pipeline so that calls chain."""
        return self._execution_strategy.execute_command(*args, **options)

    def annotate_exception(self, exception: Exception, number: int, command: Any) -> None:
        """Prefix ``exception``'s message with the command's position and text."""
        self._execution_strategy.annotate_exception(exception, number, command)

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        """Run the queued commands; their results in the order queued.  The
        pipeline is empty (and usable) again afterwards."""
        try:
            return self._execution_strategy.execute(raise_on_error)
        finally:
            self.reset()

    def reset(self) -> None:
        """Forget the queued commands (and end a transaction's WATCH)."""
        self._execution_strategy.reset()
        self.scripts = set()

    def send_cluster_commands(self, stack: List["PipelineCommand"], raise_on_error: bool = True,
                              allow_redirections: bool = True) -> List[Any]:
        """Run ``stack`` (:class:`PipelineCommand` objects); each command's
        ``result`` is set and the results are returned in ``position`` order.
        ``allow_redirections=False`` leaves MOVED/ASK/TRYAGAIN and connection
        errors as results instead of running those commands again."""
        return self._execution_strategy.send_cluster_commands(
            stack, raise_on_error=raise_on_error, allow_redirections=allow_redirections)

    def exists(self, *keys: Any) -> Any:
        return self._execution_strategy.exists(*keys)

    def eval(self) -> Any:
        """Not available in a cluster pipeline (RedisClusterException)."""
        return self._execution_strategy.eval()

    def multi(self) -> None:
        """Start the transaction's block after WATCH (transactions only)."""
        self._execution_strategy.multi()

    def load_scripts(self) -> None:
        """Make sure every primary knows the scripts queued with
        :class:`Script` objects (SCRIPT EXISTS, then SCRIPT LOAD)."""
        self._execution_strategy.load_scripts()

    def discard(self) -> None:
        self._execution_strategy.discard()

    def watch(self, *names: Any) -> Any:
        """WATCH ``names`` (transactions only; keys of one slot)."""
        self._execution_strategy.watch(*names)

    def unwatch(self) -> Any:
        """UNWATCH (transactions only)."""
        self._execution_strategy.unwatch()

    def script_load_for_pipeline(self, *args: Any, **kwargs: Any) -> None:
        self._execution_strategy.script_load_for_pipeline(*args, **kwargs)

    def delete(self, *names: Any) -> None:
        """Queue DEL (one key outside a transaction); returns None, as in redis-py."""
        self._execution_strategy.delete(*names)

    def unlink(self, *names: Any) -> None:
        """Queue UNLINK (one key outside a transaction); returns None, as in redis-py."""
        self._execution_strategy.unlink(*names)

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:
        """Only for :class:`Script` objects run on the pipeline (their scripts
        are loaded on every primary by ``execute()``); a bare EVALSHA is
        refused as in redis-py."""
        if any(s.sha == sha for s in self.scripts):
            return self.execute_command("EVALSHA", sha, numkeys, *keys_and_args)
        return block_pipeline_command("evalsha")()


def block_pipeline_command(name: str) -> Callable[..., Any]:
    """A method refusing ``name`` in a cluster pipeline (RedisClusterException)."""

    def inner(*args: Any, **kwargs: Any) -> Any:
        raise RedisClusterException(
            f"ERROR: Calling pipelined function {name} is blocked "
            f"when running redis in cluster mode...")

    return inner


# The commands redis-py refuses in a cluster pipeline (several nodes, no key,
# or server-wide)
PIPELINE_BLOCKED_COMMANDS = (
    "BGREWRITEAOF", "BGSAVE", "BITOP", "BRPOPLPUSH", "CLIENT GETNAME", "CLIENT KILL",
    "CLIENT LIST", "CLIENT SETNAME", "CLIENT", "CONFIG GET", "CONFIG RESETSTAT",
    "CONFIG REWRITE", "CONFIG SET", "CONFIG", "DBSIZE", "ECHO", "EVALSHA", "FLUSHALL",
    "FLUSHDB", "INFO", "KEYS", "LASTSAVE", "MGET", "MGET NONATOMIC", "MOVE", "MSET",
    "MSETEX", "MSET NONATOMIC", "MSETNX", "PFCOUNT", "PFMERGE", "PING", "PUBLISH",
    "RANDOMKEY", "READONLY", "READWRITE", "RENAME", "RENAMENX", "RPOPLPUSH", "SAVE", "SCAN",
    "SCRIPT EXISTS", "SCRIPT FLUSH", "SCRIPT KILL", "SCRIPT LOAD", "SCRIPT", "SDIFF",
    "SDIFFSTORE", "SENTINEL GET MASTER ADDR BY NAME", "SENTINEL MASTER", "SENTINEL MASTERS",
    "SENTINEL MONITOR", "SENTINEL REMOVE", "SENTINEL SENTINELS", "SENTINEL SET",
    "SENTINEL SLAVES", "SENTINEL", "SHUTDOWN", "SINTER", "SINTERSTORE", "SLAVEOF",
    "SLOWLOG GET", "SLOWLOG LEN", "SLOWLOG RESET", "SLOWLOG", "SMOVE", "SORT", "SUNION",
    "SUNIONSTORE", "TIME",
)
for _blocked in PIPELINE_BLOCKED_COMMANDS:
    _blocked = _blocked.replace(" ", "_").lower()
    if _blocked != "evalsha":       # evalsha: Script objects only, see above
        setattr(ClusterPipeline, _blocked, block_pipeline_command(_blocked))
del _blocked

from .commands import cluster as _cluster_commands  # noqa: E402
_cluster_commands._SLOT_PIPELINE_BUILTINS.update(
    pipeline=RedisCluster.__dict__["pipeline"], pipe_cls=ClusterPipeline,
    execute=ClusterPipeline.__dict__["execute"],
    execute_command=ClusterPipeline.__dict__["execute_command"])


class PipelineCommand:
    """One queued command of :meth:`ClusterPipeline.send_cluster_commands`:
    its arguments, options, position in the stack and, once run, result."""

    def __init__(self, args: Tuple, options: Optional[Dict[str, Any]] = None,
                 position: Optional[int] = None) -> None:
        self.args = args
        if options is None:
            options = {}
        self.options = options
        self.position = position
        self.result: Any = None
        self.node: Optional[ClusterNode] = None
        self.asking = False
        self.command_policies: Optional[CommandPolicies] = None


class _QueuedCommand(tuple):
    """A queued command of a sync cluster pipeline: the ``(args, options)``
    pair the execution code unpacks, readable by the names of redis-py's
    ``PipelineCommand`` (``args``, ``options``), which tracers and other code
    reading ``command_queue`` use."""
    __slots__ = ()
    args = property(operator.itemgetter(0), doc="the command and its arguments")
    options = property(operator.itemgetter(1), doc="the command's options")


class NodeCommands:
    """One node's share of a pipeline on the Python path (a connection or
    node client whose methods were replaced): written with
    ``send_packed_command``, read with the node client's ``parse_response``,
    as redis-py does."""

    def __init__(self, parse_response: Callable, connection_pool: ConnectionPool,
                 connection: Connection) -> None:
        self.parse_response = parse_response
        self.connection_pool = connection_pool
        self.connection = connection
        self.commands: List[PipelineCommand] = []

    def append(self, c: PipelineCommand) -> None:
        self.commands.append(c)

    def write(self) -> None:
        """Send every command in one write; a connection error becomes
        every command's result."""
        connection = self.connection
        commands = self.commands
        for c in commands:
            c.result = None
        try:
            connection.send_packed_command(connection.pack_commands([c.args for c in commands]))
        except (ConnectionError, TimeoutError) as e:
            for c in commands:
                c.result = e

    def read(self) -> None:
        """Read each command's reply (an error reply becomes its result; a
        connection error, every unread command's)."""
        connection = self.connection
        for c in self.commands:
            if c.result is None:
                try:
                    c.result = self.parse_response(connection, c.args[0], **c.options)
                except (ConnectionError, TimeoutError) as e:
                    for c in self.commands:
                        c.result = e
                    return
                except RedisError:
                    c.result = sys.exc_info()[1]


class ExecutionStrategy(ABC):
    """How a :class:`ClusterPipeline` runs: :class:`PipelineStrategy` or
    :class:`TransactionStrategy`."""

    @property
    @abstractmethod
    def command_queue(self) -> Any: ...

    @abstractmethod
    def execute_command(self, *args: Any, **kwargs: Any) -> Any: ...

    @abstractmethod
    def annotate_exception(self, exception: Exception, number: int, command: Any) -> None: ...

    @abstractmethod
    def pipeline_execute_command(self, *args: Any, **options: Any) -> Any: ...

    @abstractmethod
    def execute(self, raise_on_error: bool = True) -> List[Any]: ...

    @abstractmethod
    def send_cluster_commands(self, stack: Any, raise_on_error: bool = True,
                              allow_redirections: bool = True) -> Any: ...

    @abstractmethod
    def reset(self) -> None: ...

    @abstractmethod
    def exists(self, *keys: Any) -> Any: ...

    @abstractmethod
    def eval(self) -> Any: ...

    @abstractmethod
    def multi(self) -> None: ...

    @abstractmethod
    def load_scripts(self) -> None: ...

    @abstractmethod
    def watch(self, *names: Any) -> Any: ...

    @abstractmethod
    def unwatch(self) -> Any: ...

    @abstractmethod
    def script_load_for_pipeline(self, *args: Any, **kwargs: Any) -> Any: ...

    @abstractmethod
    def delete(self, *names: Any) -> Any: ...

    @abstractmethod
    def unlink(self, *names: Any) -> Any: ...

    @abstractmethod
    def discard(self) -> None: ...


class AbstractStrategy(ExecutionStrategy):
    """What both strategies share.  The queue holds ``(args, options)``
    pairs, as a single-node Pipeline's ``command_stack`` does."""

    def __init__(self, pipe: ClusterPipeline) -> None:
        self._command_queue: List[Tuple[Tuple, Dict[str, Any]]] = []
        self._pipe = pipe
        self._nodes_manager = self._pipe.nodes_manager

    @property
    def command_queue(self) -> List[Tuple[Tuple, Dict[str, Any]]]:
        return self._command_queue

    @command_queue.setter
    def command_queue(self, queue: List[Any]) -> None:
        self._command_queue = queue

    @abstractmethod
    def execute_command(self, *args: Any, **kwargs: Any) -> Any: ...

    def pipeline_execute_command(self, *args: Any, **options: Any) -> ClusterPipeline:
        self._command_queue.append(_QueuedCommand((args, options)))
        return self._pipe

    @abstractmethod
    def execute(self, raise_on_error: bool = True) -> List[Any]: ...

    @abstractmethod
    def send_cluster_commands(self, stack: Any, raise_on_error: bool = True,
                              allow_redirections: bool = True) -> Any: ...

    @abstractmethod
    def reset(self) -> None: ...

    def exists(self, *keys: Any) -> Any:
        return self.execute_command("EXISTS", *keys)

    def eval(self) -> Any:
        raise RedisClusterException("method eval() is not implemented")

    def load_scripts(self) -> None:
        scripts = list(self._pipe.scripts)
        if not scripts:
            return
        run = self._pipe.parent_execute_command
        shas = [s.sha for s in scripts]
        # SCRIPT EXISTS/LOAD go to every primary (True only if all have it)
        exists = run("SCRIPT EXISTS", *shas)
        for s, exist in zip(scripts, exists):
            if not exist:
                s.sha = run("SCRIPT LOAD", s.script)

    def script_load_for_pipeline(self, *args: Any, **kwargs: Any) -> Any:
        raise RedisClusterException("method script_load_for_pipeline() is not implemented")

    def annotate_exception(self, exception: Exception, number: int, command: Any) -> None:
        cmd = " ".join(map(safe_str, command))
        msg = (f"Command # {number} ({truncate_text(cmd)}) of pipeline "
               f"caused error: {exception.args[0]}")
        exception.args = (msg,) + exception.args[1:]


def _fast_node(redis_node: Redis, connection: Any) -> bool:
    """C may do the node's I/O (plain or TLS): nothing on the way replaced
    (the stand-in rule)."""
    return _native._stands_in(connection) and _native._stands_in(redis_node)


class PipelineStrategy(AbstractStrategy):
    """A cluster pipeline without transaction: every node in parallel."""

    def __init__(self, pipe: ClusterPipeline) -> None:
        super().__init__(pipe)
        self.command_flags = pipe.command_flags

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        self._command_queue.append(_QueuedCommand((args, kwargs)))
        return self._pipe

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        stack = self._command_queue
        if not stack:
            return []
        try:
            if self._pipe.scripts:
                self.load_scripts()
            return self._send_with_retries(stack, raise_on_error, True)[0]
        finally:
            self.reset()

    def reset(self) -> None:
        self._command_queue = []

    def send_cluster_commands(self, stack: List[PipelineCommand], raise_on_error: bool = True,
                              allow_redirections: bool = True) -> List[Any]:
        if not stack:
            return []
        ordered = sorted(stack, key=lambda c: c.position)
        results, policies = self._send_with_retries(
            [(c.args, c.options) for c in ordered], False, allow_redirections)
        for c, r in zip(ordered, results):
            c.result = r
            c.command_policies = policies.get(id(c.options), c.command_policies)
        if raise_on_error:
            for c in ordered:
                if isinstance(c.result, Exception):
                    self.annotate_exception(c.result, c.position + 1, c.args)
                    raise c.result
        return results

    def _send_with_retries(self, commands: List[Tuple[Tuple, Dict[str, Any]]],
                           raise_on_error: bool, allow_redirections: bool
                           ) -> Tuple[List[Any], Dict[int, CommandPolicies]]:
        """Run ``commands``; the whole attempt again (on a refreshed
        topology) after a connection error, CLUSTERDOWN or an uncovered slot
        while taking connections or routing, as often as ``retry`` allows."""
        retry_attempts = self._pipe.retry.get_retries()
        while True:
            try:
                return self._send_cluster_commands(commands, raise_on_error, allow_redirections)
            except RedisCluster.ERRORS_ALLOW_RETRY:
                if retry_attempts > 0:
                    retry_attempts -= 1
                    continue
                raise

    def _route_in_python(self, args: Tuple, options: Dict[str, Any]
                         ) -> Tuple["ClusterNode", CommandPolicies]:
        """The node of one command the C router left alone, and its policies
        (redis-py's rules: explicit target_nodes, routing flags, policies,
        keys; one node at most)."""
        pipe = self._pipe
        command_policies = pipe._policy_resolver.resolve(args[0].lower())
        passed_targets = options.pop("target_nodes", None)
        if passed_targets and not self._is_nodes_flag(passed_targets):
            target_nodes = self._parse_target_nodes(passed_targets)
            if not command_policies:
                command_policies = CommandPolicies()
        else:
            if not command_policies:
                command = args[0].upper()
                if len(args) >= 2 and f"{args[0]} {args[1]}".upper() in pipe.command_flags:
                    command = f"{args[0]} {args[1]}".upper()
                command_flag = self.command_flags.get(command)
                if not command_flag:
                    keys = pipe._get_command_keys(*args) if pipe.get_default_node() else None
                    if not keys:
                        command_policies = CommandPolicies()
                    else:
                        command_policies = CommandPolicies(
                            request_policy=RequestPolicy.DEFAULT_KEYED,
                            response_policy=ResponsePolicy.DEFAULT_KEYED)
                elif command_flag in pipe._command_flags_mapping:
                    command_policies = CommandPolicies(
                        request_policy=pipe._command_flags_mapping[command_flag])
                else:
                    command_policies = CommandPolicies()
            target_nodes = self._determine_nodes(
                *args, request_policy=command_policies.request_policy,
                node_flag=passed_targets)
            if not target_nodes:
                raise RedisClusterException(f"No targets were found to execute {args} command on")
        if len(target_nodes) > 1:
            raise RedisClusterException(f"Too many targets for command {args}")
        return list(target_nodes)[0], command_policies

    def _send_cluster_commands(self, commands: List[Tuple[Tuple, Dict[str, Any]]],
                               raise_on_error: bool = True, allow_redirections: bool = True
                               ) -> Tuple[List[Any], Dict[int, CommandPolicies]]:
        pipe = self._pipe
        pipe._ensure_router()
        n = len(commands)
        results: List[Any] = [None] * n
        errors: List[int] = []          # positions whose result is an exception
        retry: List[int] = []           # ... that may be run again
        policies: Dict[int, CommandPolicies] = {}    # id(options) -> policies (Python-routed)
        python_routed: List[int] = []

        groups, unrouted = _native._route_stack(pipe, commands)
        by_name: Dict[str, List[Any]] = {}
        touched = set()                 # groups to put back in queue order
        for entry in groups:
            same = by_name.get(entry[0].name)
            if same is None:
                by_name[entry[0].name] = entry
            else:                       # two objects for one node (a refresh)
                same[1] += entry[1]
                same[2] += entry[2]
                touched.add(entry[0].name)
        if unrouted:
            for i in unrouted:
                args, options = commands[i]
                node, command_policies = self._route_in_python(args, options)
                policies[id(options)] = command_policies
                python_routed.append(i)
                entry = by_name.get(node.name)
                if entry is None:
                    entry = by_name[node.name] = [node, [], []]
                entry[1].append(i)
                entry[2].append(commands[i])
                touched.add(node.name)
        for name in touched:
            entry = by_name[name]
            if len(entry[1]) > 1:
                # keep each node's commands in queue order
                order = sorted(range(len(entry[1])), key=entry[1].__getitem__)
                entry[1] = [entry[1][k] for k in order]
                entry[2] = [entry[2][k] for k in order]

        default_node = pipe.get_default_node()
        is_default_node = any(entry[0] == default_node for entry in by_name.values())

        # one connection per node
        taken: List[Tuple[List[Any], Redis, Any]] = []
        try:
            for entry in by_name.values():
                redis_node = pipe.get_redis_connection(entry[0])
                try:
                    if get_connection is _GET_CONNECTION:
                        # get_connection(redis_node), minus its deprecation wrapper
                        connection = (redis_node.connection
                                      or redis_node.connection_pool.get_connection())
                    else:
                        # the module function was replaced (a test injecting
                        # faults): called, as redis-py calls it
                        connection = get_connection(redis_node)
                except (ConnectionError, TimeoutError):
                    for _, rn, conn in taken:
                        rn.connection_pool.release(conn)
                    taken = []
                    self._nodes_manager.initialize()
                    if is_default_node:
                        pipe.replace_default_node()
                    raise
                taken.append((entry, redis_node, connection))

            fast, slow = [], []
            for t in taken:
                (fast if _fast_node(t[1], t[2]) else slow).append(t)
            slow_nodes = []
            for entry, redis_node, connection in slow:
                nc = NodeCommands(redis_node.parse_response, redis_node.connection_pool,
                                  connection)
                for i, (args, options) in zip(entry[1], entry[2]):
                    nc.append(PipelineCommand(args, options, i))
                nc.write()
                slow_nodes.append(nc)
            outcomes = _native._roundtrip_many([(t[2], t[0][2]) for t in fast])
            for nc in slow_nodes:
                nc.read()
        except BaseException:
            # a connection still owed replies must not serve anyone else (an
            # argument error raised before anything was sent leaves them all)
            for _, _, connection in taken:
                if getattr(connection, "_replies_owed", 1):
                    connection.disconnect()
            raise
        finally:
            for _, redis_node, connection in taken:
                redis_node.connection_pool.release(connection)

        retryable = ClusterPipeline.ERRORS_ALLOW_RETRY
        for (entry, redis_node, _), outcome in zip(fast, outcomes):
            positions = entry[1]
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                for i in positions:
                    results[i] = outcome
                errors += positions
                if isinstance(outcome, retryable):
                    retry += positions
                continue
            result = redis_node._command_result
            callbacks = _CallbackMemo(redis_node.response_callbacks)
            for i, reply, (args, options) in zip(positions, outcome, entry[2]):
                try:
                    results[i] = result(reply, args[0], options, callbacks)
                except RedisError as e:
                    results[i] = e
                    errors.append(i)
                    if isinstance(e, retryable):
                        retry.append(i)
        for nc in slow_nodes:
            for c in nc.commands:
                results[c.position] = c.result
                if isinstance(c.result, Exception):
                    errors.append(c.position)
                    if isinstance(c.result, retryable):
                        retry.append(c.position)

        if retry and allow_redirections:
            # run these again one by one through the cluster client, which
            # follows MOVED/ASK and retries connection errors
            pipe.reinitialize_counter += 1
            if pipe._should_reinitialized():
                self._nodes_manager.initialize()
                if is_default_node:
                    pipe.replace_default_node()
            retry.sort()
            retried = set(retry)
            for i in retry:
                args, options = commands[i]
                try:
                    results[i] = pipe.parent_execute_command(*args, **options)
                except RedisError as e:
                    results[i] = e
                    continue
            errors = [i for i in errors if i not in retried or isinstance(results[i], Exception)]
        else:
            retried = set()

        # cluster-level callbacks: only commands routed here can have one (the
        # C router leaves commands with a cluster callback to Python)
        callbacks = pipe.cluster_response_callbacks
        for i in python_routed:
            args, options = commands[i]
            if args[0] in callbacks and i not in retried and not isinstance(results[i], Exception):
                options.pop("keys", None)
                results[i] = pipe._policies_callback_mapping[
                    policies[id(options)].response_policy
                ](callbacks[args[0]](results[i], **options))

        if raise_on_error and errors:
            i = min(errors)
            self.annotate_exception(results[i], i + 1, commands[i][0])
            raise results[i]
        return results, policies

    def _is_nodes_flag(self, target_nodes: Any) -> bool:
        return isinstance(target_nodes, str) and target_nodes in self._pipe.node_flags

    def _parse_target_nodes(self, target_nodes: Any) -> Any:
        return self._pipe._parse_target_nodes(target_nodes)

    def _determine_nodes(self, *args: Any, request_policy: RequestPolicy,
                         **kwargs: Any) -> List["ClusterNode"]:
        # the client's routing, on the pipeline's tables (redis-py passes a
        # flag as node_flag and reads nodes_flag: a flag given as
        # target_nodes falls back to the command's own routing)
        return RedisCluster._determine_nodes(self._pipe, *args, request_policy=request_policy,
                                             **kwargs)

    def multi(self) -> None:
        raise RedisClusterException(
            "method multi() is not supported outside of transactional context")

    def discard(self) -> None:
        raise RedisClusterException(
            "method discard() is not supported outside of transactional context")

    def watch(self, *names: Any) -> Any:
        raise RedisClusterException(
            "method watch() is not supported outside of transactional context")

    def unwatch(self, *names: Any) -> Any:
        raise RedisClusterException(
            "method unwatch() is not supported outside of transactional context")

    def delete(self, *names: Any) -> Any:
        if len(names) != 1:
            raise RedisClusterException(
                "deleting multiple keys is not implemented in pipeline command")
        return self.execute_command("DEL", names[0])

    def unlink(self, *names: Any) -> Any:
        if len(names) != 1:
            raise RedisClusterException(
                "unlinking multiple keys is not implemented in pipeline command")
        return self.execute_command("UNLINK", names[0])


class TransactionStrategy(AbstractStrategy):
    """A cluster transaction: every key in one slot, MULTI/EXEC on that
    slot's primary over one connection (kept from the first WATCH to EXEC)."""

    NO_SLOTS_COMMANDS = {"UNWATCH"}
    IMMEDIATE_EXECUTE_COMMANDS = {"WATCH", "UNWATCH"}
    UNWATCH_COMMANDS = {"DISCARD", "EXEC", "UNWATCH"}
    SLOT_REDIRECT_ERRORS = (AskError, MovedError)
    CONNECTION_ERRORS = (ConnectionError, OSError, ClusterDownError, SlotNotCoveredError)

    def __init__(self, pipe: ClusterPipeline) -> None:
        super().__init__(pipe)
        self._explicit_transaction = False
        self._watching = False
        self._pipeline_slots: Set[int] = set()
        self._transaction_connection: Optional[Connection] = None
        self._executing = False
        self._retry = copy(self._pipe.retry)
        self._retry.update_supported_errors(
            RedisCluster.ERRORS_ALLOW_RETRY + self.SLOT_REDIRECT_ERRORS)

    def _get_client_and_connection_for_transaction(self) -> Tuple[Redis, Connection]:
        """The primary of the transaction's slot and the connection kept for
        the whole transaction (a WATCH only holds on the connection that
        sent it)."""
        if not self._pipeline_slots:
            raise RedisClusterException(
                "At least a command with a key is needed to identify a node")
        node = self._nodes_manager.get_node_from_slot(list(self._pipeline_slots)[0], False)
        redis_node = self._pipe.get_redis_connection(node)
        if self._transaction_connection:
            if not redis_node.connection_pool.owns_connection(self._transaction_connection):
                previous_node = self._nodes_manager.find_connection_owner(
                    self._transaction_connection)
                if previous_node is not None and previous_node.redis_connection:
                    previous_node.redis_connection.connection_pool.release(
                        self._transaction_connection)
                self._transaction_connection = None
        if not self._transaction_connection:
            self._transaction_connection = get_connection(redis_node)
        return redis_node, self._transaction_connection

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        slot_number: Optional[int] = None
        if args[0] not in ClusterPipeline.NO_SLOTS_COMMANDS:
            slot_number = self._pipe.determine_slot(*args)
        if ((self._watching or args[0] in self.IMMEDIATE_EXECUTE_COMMANDS)
                and not self._explicit_transaction):
            if args[0] == "WATCH":
                self._validate_watch()
            if slot_number is not None:
                if self._pipeline_slots and slot_number not in self._pipeline_slots:
                    raise CrossSlotTransactionError(
                        "Cannot watch or send commands on different slots")
                self._pipeline_slots.add(slot_number)
            elif args[0] not in self.NO_SLOTS_COMMANDS:
                raise RedisClusterException(
                    f"Cannot identify slot number for command: {args[0]},"
                    "it cannot be triggered in a transaction")
            return self._immediate_execute_command(*args, **kwargs)
        if slot_number is not None:
            self._pipeline_slots.add(slot_number)
        return self.pipeline_execute_command(*args, **kwargs)

    def _validate_watch(self) -> None:
        if self._explicit_transaction:
            raise RedisError("Cannot issue a WATCH after a MULTI")
        self._watching = True

    def _immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        return self._retry.call_with_retry(
            lambda: self._get_connection_and_send_command(*args, **options),
            self._reinitialize_on_error,
            with_failure_count=True)

    def _get_connection_and_send_command(self, *args: Any, **options: Any) -> Any:
        redis_node, connection = self._get_client_and_connection_for_transaction()
        try:
            return self._send_command_parse_response(connection, redis_node, args[0], *args,
                                                     **options)
        except Exception as e:
            e.connection = connection
            raise

    def _send_command_parse_response(self, conn: Any, redis_node: Redis, command_name: Any,
                                     *args: Any, **options: Any) -> Any:
        conn.send_command(*args)
        output = redis_node.parse_response(conn, command_name, **options)
        if command_name in self.UNWATCH_COMMANDS:
            self._watching = False
        return output

    def _reinitialize_on_error(self, error: Exception, failure_count: int) -> None:
        """Retry hook: a redirection while watching ends the transaction
        (WatchError); a redirection or connection error drops the
        transaction's connection and updates the topology."""
        if self._watching:
            if type(error) in self.SLOT_REDIRECT_ERRORS and self._executing:
                raise WatchError("Slot rebalancing occurred while watching keys")
        if type(error) in self.SLOT_REDIRECT_ERRORS or type(error) in self.CONNECTION_ERRORS:
            if self._transaction_connection:
                self._transaction_connection.disconnect()
                node = self._nodes_manager.find_connection_owner(self._transaction_connection)
                if node and node.redis_connection:
                    node.redis_connection.connection_pool.release(self._transaction_connection)
                self._transaction_connection = None
            self._pipe.reinitialize_counter += 1
            if self._pipe._should_reinitialized():
                self._nodes_manager.initialize()
                self.reinitialize_counter = 0
            elif isinstance(error, AskError):
                self._nodes_manager.move_slot(error)
        self._executing = False

    def _raise_first_error(self, responses: List[Any], stack: List[Any]) -> None:
        for i, (r, cmd) in enumerate(zip(responses, stack)):
            if isinstance(r, Exception):
                self.annotate_exception(r, i + 1, cmd[0])
                raise r

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        stack = self._command_queue
        if not stack and (not self._watching or not self._pipeline_slots):
            return []
        if self._pipe.scripts:
            self.load_scripts()
        return self._execute_transaction_with_retries(stack, raise_on_error)

    def _execute_transaction_with_retries(self, stack: List[Any], raise_on_error: bool) -> Any:
        return self._retry.call_with_retry(
            lambda: self._execute_transaction(stack, raise_on_error),
            lambda error, failure_count: self._reinitialize_on_error(error, failure_count),
            with_failure_count=True)

    def _read_block(self, redis_node: Redis, connection: Any, block: List[Any]) -> List[Any]:
        """Send MULTI, the commands and EXEC in one write; the raw replies
        (MULTI's and EXEC's through the node client's result step), each
        error reply as an exception instance."""
        if _fast_node(redis_node, connection):
            replies = connection._execute_pipeline(block)
            out = []
            for k, reply in enumerate(replies):
                if k == 0 or k == len(replies) - 1:
                    name = "MULTI" if k == 0 else "EXEC"
                    try:
                        reply = redis_node._command_result(reply, name, {})
                    except RedisError as e:
                        reply = e
                out.append(reply)
            return out
        connection.send_packed_command(connection.pack_commands([a for a, _ in block]))
        out = []
        try:
            for k in range(len(block)):
                name = "MULTI" if k == 0 else "EXEC" if k == len(block) - 1 else "_"
                try:
                    out.append(redis_node.parse_response(connection, name))
                except RedisError as e:
                    if isinstance(e, self.CONNECTION_ERRORS) and not isinstance(
                            e, ClusterDownError):
                        raise
                    out.append(e)
        except BaseException:
            connection.disconnect()
            raise
        return out

    def _execute_transaction(self, stack: List[Any], raise_on_error: bool) -> List[Any]:
        if len(self._pipeline_slots) > 1:
            raise CrossSlotTransactionError(
                "All keys involved in a cluster transaction must map to the same slot")
        self._executing = True
        redis_node, connection = self._get_client_and_connection_for_transaction()
        sent = [c for c in stack if _EMPTY_RESPONSE not in c[1]]
        block = [(("MULTI",), {}), *sent, (("EXEC",), {})]
        replies = self._read_block(redis_node, connection, block)
        errors: List[Any] = []
        multi = replies[0]
        if isinstance(multi, Exception):
            self.annotate_exception(multi, 0, "MULTI")
            if not isinstance(multi, ResponseError):
                raise multi
            errors.append(multi)
        queued = iter(replies[1:-1])
        for i, (args, options) in enumerate(stack):
            if _EMPTY_RESPONSE in options:
                errors.append((i, options[_EMPTY_RESPONSE]))
                continue
            ack = next(queued)
            if isinstance(ack, Exception):
                self.annotate_exception(ack, i + 1, args)
                if isinstance(ack, self.SLOT_REDIRECT_ERRORS):
                    errors.append(ack)
                elif isinstance(ack, self.CONNECTION_ERRORS):
                    raise ack
                elif isinstance(ack, ResponseError):
                    errors.append(ack)
                else:
                    raise ack
        response = replies[-1]
        if isinstance(response, Exception):
            if isinstance(response, ExecAbortError) and errors:
                first = errors[0]
                raise first if isinstance(first, Exception) else response
            raise response
        self._executing = False
        self._watching = False          # EXEC ends any WATCH
        if response is None:
            raise WatchError("Watched variable changed.")
        response = list(response)
        for i, e in errors:
            response.insert(i, e)
        if len(response) != len(stack):
            raise InvalidPipelineStack(
                "Unexpected response length for cluster pipeline EXEC."
                " Command stack was {} but response had length {}".format(
                    [c[0][0] for c in stack], len(response)))
        if raise_on_error or len(errors) > 0:
            self._raise_first_error(response, stack)
        callbacks = self._pipe.cluster_response_callbacks
        data = []
        for r, (args, options) in zip(response, stack):
            if not isinstance(r, Exception) and args[0] in callbacks:
                r = callbacks[args[0]](r, **options)
            data.append(r)
        return data

    def reset(self) -> None:
        self._command_queue = []
        conn = self._transaction_connection
        if conn:
            try:
                if self._watching:
                    # sent by hand: unwatch() may itself call reset()
                    conn.send_command("UNWATCH")
                    conn.read_response()
            except self.CONNECTION_ERRORS:
                # a closed connection has no WATCH left on the server either
                conn.disconnect()
            node = self._nodes_manager.find_connection_owner(conn)
            if node and node.redis_connection:
                node.redis_connection.connection_pool.release(conn)
            self._transaction_connection = None
        self._watching = False
        self._explicit_transaction = False
        self._pipeline_slots = set()
        self._executing = False

    def send_cluster_commands(self, stack: Any, raise_on_error: bool = True,
                              allow_redirections: bool = True) -> Any:
        raise NotImplementedError(
            "send_cluster_commands cannot be executed in transactional context.")

    def multi(self) -> None:
        if self._explicit_transaction:
            raise RedisError("Cannot issue nested calls to MULTI")
        if self._command_queue:
            raise RedisError("Commands without an initial WATCH have already been issued")
        self._explicit_transaction = True

    def watch(self, *names: Any) -> Any:
        if self._explicit_transaction:
            raise RedisError("Cannot issue a WATCH after a MULTI")
        return self.execute_command("WATCH", *names)

    def unwatch(self) -> Any:
        if self._watching:
            return self.execute_command("UNWATCH")
        return True

    def discard(self) -> None:
        self.reset()

    def delete(self, *names: Any) -> Any:
        return self.execute_command("DEL", *names)

    def unlink(self, *names: Any) -> Any:
        return self.execute_command("UNLINK", *names)


class ClusterPubSub(PubSub):
    """Pub/sub on a Redis Cluster, as redis-py's ``ClusterPubSub``
    (``RedisCluster.pubsub()``).

    ``subscribe``/``psubscribe`` use one connection, to ``node`` (or the node
    at ``host``/``port``) or, when none is given, to a node of the first
    channel's slot (a replica too while replicas serve reads); messages
    published anywhere in the cluster reach it.  Shard channels
    (``ssubscribe``) are subscribed on the primary of their slot, one
    connection per node, and read with :meth:`get_sharded_message`.

    When a node fails, the subscriptions it held are made again: after the
    connection error (raised to the caller, as redis-py raises it) the
    topology is refreshed and the next read subscribes again on a live node
    -- for shard channels, on the new owner of their slot.  A shard channel
    the server drops by itself (its slot moved away, its primary became a
    replica: an ``sunsubscribe`` nobody asked for) is subscribed again on
    its slot's new owner the same way.
    """

    def __init__(self, redis_cluster: RedisCluster, node: Optional[ClusterNode] = None,
                 host: Optional[str] = None, port: Optional[int] = None,
                 push_handler_func: Optional[Callable] = None,
                 event_dispatcher: Optional[EventDispatcher] = None, **kwargs: Any) -> None:
        """See the class docstring; ``DataError`` for a host without a port
        (or the reverse), ``RedisClusterException`` for an unknown node."""
        self.node = None
        self.set_pubsub_node(redis_cluster, node, host, port)
        self._node_given = self.node is not None
        connection_pool = (None if self.node is None
                           else redis_cluster.get_redis_connection(self.node).connection_pool)
        self.cluster = redis_cluster
        self.node_pubsub_mapping: Dict[str, PubSub] = {}
        self._pubsubs_generator = self._pubsubs_generator()
        # shard channels whose node failed or dropped them: subscribed again
        # on the slot's current owner at the next sharded read
        self._shard_resubscribe: Dict[Any, Optional[Callable]] = {}
        self._rehome_pending = False
        self._event_dispatcher = event_dispatcher if event_dispatcher is not None \
            else EventDispatcher()
        super().__init__(connection_pool=connection_pool, encoder=redis_cluster.encoder,
                         push_handler_func=push_handler_func,
                         event_dispatcher=self._event_dispatcher, **kwargs)

    def set_pubsub_node(self, cluster: RedisCluster, node: Optional[ClusterNode] = None,
                        host: Optional[str] = None, port: Optional[int] = None) -> None:
        """Use ``node`` (or the node at ``host``/``port``); with neither, the
        node is chosen by the first channel's slot at the first command."""
        if node is not None:
            self._raise_on_invalid_node(cluster, node, node.host, node.port)
            pubsub_node = node
        elif host is not None and port is not None:
            node = cluster.get_node(host=host, port=port)
            self._raise_on_invalid_node(cluster, node, host, port)
            pubsub_node = node
        elif any([host, port]) is True:
            raise DataError("Passing a host requires passing a port, and vice versa")
        else:
            pubsub_node = None
        self.node = pubsub_node

    def get_pubsub_node(self) -> Optional[ClusterNode]:
        """The node of the (non-sharded) pub/sub connection, once chosen."""
        return self.node

    def _raise_on_invalid_node(self, redis_cluster: RedisCluster, node: Optional[ClusterNode],
                               host: Any, port: Any) -> None:
        if node is None or redis_cluster.get_node(node_name=node.name) is None:
            raise RedisClusterException(f"Node {host}:{port} doesn't exist in the cluster")

    def _choose_node(self, channel: Any = None) -> ClusterNode:
        if channel is not None:
            slot = self.cluster.keyslot(channel)
            return self.cluster.nodes_manager.get_node_from_slot(
                slot, self.cluster.read_from_replicas, self.cluster.load_balancing_strategy)
        return self.cluster.get_random_node()

    def execute_command(self, *args: Any) -> None:
        """Send a (un)subscribe command on the pub/sub connection, taking one
        from the chosen node's pool first if needed."""
        if self._rehome_pending:
            self._rehome()
        if self.connection is None and self.connection_pool is None:
            node = self._choose_node(args[1] if len(args) > 1 else None)
            self.node = node
            self.connection_pool = self.cluster.get_redis_connection(node).connection_pool
        return super().execute_command(*args)

    # -- a failed node ---------------------------------------------------------------
    def _rehome(self) -> None:
        """Move the channel/pattern subscriptions to a live node: the node
        chosen as at the start (the given node, or the first channel's slot)
        if it answers, else any other node; subscriptions are made again there."""
        self._rehome_pending = True
        old = self.connection
        if old is not None:
            old.disconnect()
            old.deregister_connect_callback(self.on_connect)
            self.connection_pool.release(old)
            self.connection = None
        self.cluster.nodes_manager.initialize()
        names = list(self.channels) + list(self.patterns)
        if self._node_given:
            node = self.cluster.get_node(node_name=self.node.name)
            if node is None:
                raise RedisClusterException(f"Node {self.node.name} doesn't exist in the cluster")
            candidates = [node]
        else:
            first = self._choose_node(names[0] if names else None)
            candidates = [first] + [n for n in self.cluster.get_nodes() if n != first]
        error: Optional[BaseException] = None
        for node in candidates:
            pool = self.cluster.get_redis_connection(node).connection_pool
            try:
                conn = pool.get_connection()
            except (ConnectionError, TimeoutError) as e:
                error = e
                continue
            self.node, self.connection_pool, self.connection = node, pool, conn
            conn.register_connect_callback(self.on_connect)
            self._rehome_pending = False
            if names:
                self.on_connect(conn)
            return
        raise error if error is not None else ConnectionError("no cluster node to subscribe on")

    def get_message(self, ignore_subscribe_messages: bool = False,
                    timeout: Optional[float] = 0.0) -> Optional[Dict[str, Any]]:
        """As :meth:`PubSub.get_message`.  A connection error is raised, and
        the subscriptions are made again on a live node at the next call."""
        if self._rehome_pending:
            self._rehome()
        try:
            return super().get_message(ignore_subscribe_messages=ignore_subscribe_messages,
                                       timeout=timeout)
        except (ConnectionError, TimeoutError):
            if self.connection is not None and (self.channels or self.patterns):
                self._rehome_pending = True
            raise

    # -- sharded pub/sub ---------------------------------------------------------------
    def _get_node_pubsub(self, node: ClusterNode) -> PubSub:
        try:
            return self.node_pubsub_mapping[node.name]
        except KeyError:
            pubsub = self.cluster.get_redis_connection(node).pubsub(
                push_handler_func=self.push_handler_func)
            self.node_pubsub_mapping[node.name] = pubsub
            return pubsub

    def _pubsubs_generator(self) -> Iterator[Tuple[str, PubSub]]:
        """The nodes' sharded pub/subs, round and round (the node read
        first moves on with every read, so no node starves the others)."""
        while True:
            current = list(self.node_pubsub_mapping.items())
            if not current:
                return
            yield from current

    def _drop_node_pubsub(self, name: str, pubsub: PubSub) -> None:
        """Forget a node's sharded pub/sub: its shard channels wait for
        :meth:`_resubscribe_shards`."""
        for channel, handler in pubsub.shard_channels.items():
            if channel not in pubsub.pending_unsubscribe_shard_channels:
                self._shard_resubscribe[channel] = handler
        if self.node_pubsub_mapping.get(name) is pubsub:
            del self.node_pubsub_mapping[name]
        try:
            pubsub.reset()
        except Exception:  # noqa: BLE001 - the node is gone; its socket may be too
            pass

    def _resubscribe_shards(self) -> None:
        """Subscribe the dropped shard channels again, each on the primary of
        its slot now.  On failure they stay pending for the next read."""
        self.cluster.nodes_manager.initialize()
        pending = self._shard_resubscribe
        for channel in list(pending):
            handler = pending[channel]
            node = self.cluster.get_node_from_key(channel)
            pubsub = self._get_node_pubsub(node)
            try:
                if handler is not None:
                    pubsub.ssubscribe(**{self.encoder.decode(channel, force=True): handler})
                else:
                    pubsub.ssubscribe(channel)
            except (ConnectionError, TimeoutError):
                self._drop_node_pubsub(node.name, pubsub)
                raise
            pending.pop(channel, None)
            self.shard_channels[channel] = handler

    def _read_node(self, name: str, pubsub: PubSub, ignore_subscribe_messages: bool,
                   timeout: Optional[float]) -> Optional[Dict[str, Any]]:
        try:
            message = pubsub.get_message(ignore_subscribe_messages=ignore_subscribe_messages,
                                         timeout=timeout)
        except (ConnectionError, TimeoutError):
            self._drop_node_pubsub(name, pubsub)
            raise
        if message is not None and str_if_bytes(message["type"]) == "sunsubscribe":
            channel = message["channel"]
            if channel in self.pending_unsubscribe_shard_channels:
                self.pending_unsubscribe_shard_channels.remove(channel)
                self.shard_channels.pop(channel, None)
                if pubsub.subscribed is False and self.node_pubsub_mapping.get(name) is pubsub:
                    self.node_pubsub_mapping.pop(name)
            elif channel in self.shard_channels:
                # the server dropped it (slot moved, node demoted): follow it
                self._shard_resubscribe[channel] = self.shard_channels[channel]
                pubsub.shard_channels.pop(channel, None)
        return message

    def get_sharded_message(self, ignore_subscribe_messages: bool = False,
                            timeout: Optional[float] = 0.0,
                            target_node: Optional[ClusterNode] = None
                            ) -> Optional[Dict[str, Any]]:
        """The next shard-channel message from any node (or ``target_node``),
        or None if none arrives within ``timeout`` seconds.  Shard channels
        of a failed node are subscribed again on their slot's owner first
        (a connection error is raised, and retried at the next call)."""
        if self._shard_resubscribe:
            self._resubscribe_shards()
        if target_node:
            message = self._read_node(target_node.name,
                                      self.node_pubsub_mapping[target_node.name],
                                      False, timeout)
        else:
            message = self._sharded_message(timeout)
        if message is None:
            return None
        if not self.channels and not self.patterns and not self.shard_channels:
            self.subscribed_event.clear()
        if self.ignore_subscribe_messages or ignore_subscribe_messages:
            if str_if_bytes(message["type"]) not in self.PUBLISH_MESSAGE_TYPES:
                return None
        return message

    def _sharded_message(self, timeout: Optional[float]) -> Optional[Dict[str, Any]]:
        """One pass over the nodes without waiting; then, if ``timeout``
        allows, wait on all their sockets at once and pass again."""
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout or 0.0)
        while True:
            for _ in range(len(self.node_pubsub_mapping)):
                item = next(self._pubsubs_generator, None)
                if item is None:
                    # the generator ended (no node left) or was never started
                    self._pubsubs_generator = ClusterPubSub._pubsubs_generator(self)
                    item = next(self._pubsubs_generator, None)
                    if item is None:
                        break
                name, pubsub = item
                if self.node_pubsub_mapping.get(name) is not pubsub:
                    continue        # dropped since the generator's snapshot
                message = self._read_node(name, pubsub, False, 0.0)
                if message is not None:
                    return message
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            fds = [p.connection.fileno() for p in self.node_pubsub_mapping.values()
                   if p.connection is not None and p.connection.fileno() >= 0]
            if not fds:
                return None             # nothing to wait on (as redis-py: no message)
            select.select(fds, [], [], left)

    def ssubscribe(self, *args: Any, **kwargs: Callable) -> None:
        """Subscribe to shard channels, each on the primary of its slot (one
        connection per node); handlers as for :meth:`subscribe`."""
        if args:
            args = list_or_args(args[0], args[1:])
        s_channels = dict.fromkeys(args)
        s_channels.update(kwargs)
        for s_channel, handler in s_channels.items():
            node = self.cluster.get_node_from_key(s_channel)
            pubsub = self._get_node_pubsub(node)
            if handler:
                pubsub.ssubscribe(**{s_channel: handler})
            else:
                pubsub.ssubscribe(s_channel)
            self.shard_channels.update(pubsub.shard_channels)
            self.pending_unsubscribe_shard_channels.difference_update(
                self._normalize_keys({s_channel: None}))
            if pubsub.subscribed and not self.subscribed:
                self.subscribed_event.set()
                self.health_check_response_counter = 0

    def sunsubscribe(self, *args: Any) -> None:
        """Unsubscribe from the given shard channels, or from all of them."""
        if args:
            args = list_or_args(args[0], args[1:])
        else:
            args = list(self.shard_channels)
        for s_channel in args:
            node = self.cluster.get_node_from_key(s_channel)
            p = self._get_node_pubsub(node)
            p.sunsubscribe(s_channel)
            self.pending_unsubscribe_shard_channels.update(p.pending_unsubscribe_shard_channels)

    def get_redis_connection(self) -> Optional[Redis]:
        """The Redis client of the pub/sub connection's node."""
        if self.node is not None:
            return self.node.redis_connection
        return None

    def disconnect(self) -> None:
        """Disconnect the pub/sub connection and every node's sharded one."""
        if self.connection:
            self.connection.disconnect()
        for pubsub in self.node_pubsub_mapping.values():
            if pubsub.connection:
                pubsub.connection.disconnect()

    def reset(self) -> None:
        """Drop every subscription, sharded ones included, and give the
        connections back."""
        for pubsub in list(getattr(self, "node_pubsub_mapping", {}).values()):
            pubsub.reset()
        if getattr(self, "node_pubsub_mapping", None):
            self.node_pubsub_mapping.clear()
        if getattr(self, "_shard_resubscribe", None):
            self._shard_resubscribe.clear()
        self._rehome_pending = False
        super().reset()


# The redis.cache names redis-py's redis.cluster has load on first access
# (PEP 562): client-side caching needs RESP3, and the cache module is not
# needed to use a cluster.
_FROM_CACHE = ("CacheConfig", "CacheFactory", "CacheFactoryInterface", "CacheInterface")


def __getattr__(name: str) -> Any:
    if name in _FROM_CACHE:
        from . import cache

        value = globals()[name] = getattr(cache, name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
