"""``redis.asyncio.cluster``: the asyncio Redis Cluster client.

:class:`RedisCluster` discovers the cluster with ``CLUSTER SLOTS``
(:class:`NodesManager`), sends every command to the node serving its keys'
hash slot (or to the nodes its routing flag, policy or ``target_nodes``
names) and follows MOVED, ASK, TRYAGAIN, CLUSTERDOWN and connection errors as
redis-py 7.4.1 does.  Each :class:`ClusterNode` keeps its own
:class:`~redis_native.asyncio.connection.Connection` objects; a command goes
through the connection's native protocol (``src/aio.c``: packing, reply
parsing and the response callback in C) unless a method on the way was
replaced (the stand-in rule of the single-node client).

:class:`ClusterPipeline` groups queued commands per node and sends each
node its share in one write, all nodes at once; ``transaction=True`` runs
commands of one slot in MULTI/EXEC on that slot's primary.

The routing tables (``COMMAND_FLAGS``, ``RESULT_CALLBACKS``, node flags),
:class:`~redis_native.cluster.LoadBalancer` and the slot helpers are the sync
client's (:mod:`redis_native.cluster`).
"""
from __future__ import annotations

import asyncio
import collections
import random
import socket
import warnings
from copy import copy
from itertools import chain
from typing import (
    Any,
    Callable,
    Coroutine,
    Deque,
    Dict,
    Generator,
    List,
    Mapping,
    Optional,
    Set,
    Tuple,
    Type,
    TypeVar,
    Union,
)

from .._parsers import AsyncCommandsParser, Encoder
from .._parsers.commands import CommandPolicies, RequestPolicy, ResponsePolicy
from ..backoff import ExponentialWithJitterBackoff, NoBackoff
from ..client import EMPTY_RESPONSE, NEVER_DECODE, AbstractRedis, _callback_options
from ..cluster import (
    PIPELINE_BLOCKED_COMMANDS,
    PRIMARY,
    REPLICA,
    SLOT_ID,
    _SPECIAL_ROUTING,
    _slot_of_keys,
    AbstractRedisCluster,
    LoadBalancer,
    LoadBalancingStrategy,
    block_pipeline_command,
    get_node_name,
    parse_cluster_slots,
)
from ..commands._stack import StackModuleAccessors
from ..commands.cluster import READ_COMMANDS, AsyncRedisClusterCommands
from ..commands.policies import STATIC_POLICIES, AsyncPolicyResolver, AsyncStaticPolicyResolver
from ..credentials import CredentialProvider
from ..crc import REDIS_CLUSTER_HASH_SLOTS, key_slot
from ..driver_info import DriverInfo, resolve_driver_info
from ..event import AfterAsyncClusterInstantiationEvent, EventDispatcher
from ..exceptions import (
    AskError,
    BusyLoadingError,
    ClusterDownError,
    ClusterError,
    ConnectionError,
    CrossSlotTransactionError,
    DataError,
    ExecAbortError,
    InvalidPipelineStack,
    MaxConnectionsError,
    MovedError,
    RedisClusterException,
    RedisError,
    ResponseError,
    SlotNotCoveredError,
    TimeoutError,
    TryAgainError,
    WatchError,
)
from ..typing import AnyKeyT, EncodableT, KeyT
from ..utils import (
    SENTINEL,
    SSL_AVAILABLE,
    deprecated_args,
    deprecated_function,
    safe_str,
    str_if_bytes,
    truncate_text,
)
from .client import (_AWAITABLE_RESULTS, Redis, ResponseCallbackT, _client_callbacks,
                     _conn_native)
from .connection import Connection, SSLConnection, parse_url
from .lock import Lock
from .retry import Retry

if SSL_AVAILABLE:
    from ssl import TLSVersion, VerifyFlags, VerifyMode
else:  # pragma: no cover
    TLSVersion = None
    VerifyMode = None
    VerifyFlags = None

__all__ = ["ClusterNode", "ClusterPipeline", "NodesManager", "RedisCluster",
           "PipelineCommand", "ExecutionStrategy", "AbstractStrategy", "PipelineStrategy",
           "TransactionStrategy"]

TargetNodesT = TypeVar(
    "TargetNodesT", str, "ClusterNode", List["ClusterNode"], Dict[Any, "ClusterNode"]
)


class RedisCluster(AbstractRedis, AbstractRedisCluster, AsyncRedisClusterCommands,
                   StackModuleAccessors):
    """An asyncio client for a Redis Cluster, compatible with redis-py's
    ``redis.asyncio.cluster.RedisCluster``.

    Give it one reachable node (``host``/``port``, or :meth:`from_url`) or
    several (``startup_nodes``); ``await rc.initialize()`` (or ``await rc``,
    ``async with rc``, or the first command) discovers the rest, and
    ``await rc.aclose()`` closes every connection.  Keyed commands go to the
    node of their keys' hash slot; ``target_nodes=`` (a node flag such as
    ``RedisCluster.PRIMARIES``, a :class:`ClusterNode`, a list or dict of
    them) sends a command elsewhere.  The remaining keyword arguments
    configure every node's connections (``password``, ``socket_timeout``,
    ``decode_responses``, the ``ssl_*`` options...); ``db`` other than 0 and
    ``path`` are refused.  Not safe to share across threads or processes.
    """

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "RedisCluster":
        """A client configured from ``redis://`` or ``rediss://`` ``url``;
        its query arguments override ``kwargs``."""
        kwargs.update(parse_url(url))
        if kwargs.pop("connection_class", None) is SSLConnection:
            kwargs["ssl"] = True
        return cls(**kwargs)

    @deprecated_args(
        args_to_warn=["read_from_replicas"],
        reason="Please configure the 'load_balancing_strategy' instead",
        version="5.3.0",
    )
    @deprecated_args(
        args_to_warn=["cluster_error_retry_attempts"],
        reason="Please configure the 'retry' object instead",
        version="6.0.0",
    )
    def __init__(
        self,
        host: Optional[str] = None,
        port: Union[str, int] = 6379,
        # cluster
        startup_nodes: Optional[List["ClusterNode"]] = None,
        require_full_coverage: bool = True,
        read_from_replicas: bool = False,
        load_balancing_strategy: Optional[LoadBalancingStrategy] = None,
        dynamic_startup_nodes: bool = True,
        reinitialize_steps: int = 5,
        cluster_error_retry_attempts: int = 3,
        max_connections: int = 2**31,
        retry: Optional["Retry"] = None,
        retry_on_error: Optional[List[Type[Exception]]] = None,
        # client
        db: Union[str, int] = 0,
        path: Optional[str] = None,
        credential_provider: Optional[CredentialProvider] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        client_name: Optional[str] = None,
        lib_name: Union[Optional[str], object] = SENTINEL,
        lib_version: Union[Optional[str], object] = SENTINEL,
        driver_info: Union[Optional["DriverInfo"], object] = SENTINEL,
        # encoding
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        decode_responses: bool = False,
        # connections
        health_check_interval: float = 0,
        socket_connect_timeout: Optional[float] = None,
        socket_keepalive: bool = False,
        socket_keepalive_options: Optional[Mapping[int, Union[int, bytes]]] = None,
        socket_timeout: Optional[float] = None,
        # TLS
        ssl: bool = False,
        ssl_ca_certs: Optional[str] = None,
        ssl_ca_data: Optional[str] = None,
        ssl_cert_reqs: Union[str, VerifyMode] = "required",
        ssl_include_verify_flags: Optional[List[VerifyFlags]] = None,
        ssl_exclude_verify_flags: Optional[List[VerifyFlags]] = None,
        ssl_certfile: Optional[str] = None,
        ssl_check_hostname: bool = True,
        ssl_keyfile: Optional[str] = None,
        ssl_min_version: Optional[TLSVersion] = None,
        ssl_ciphers: Optional[str] = None,
        protocol: Optional[int] = 2,
        address_remap: Optional[Callable[[Tuple[str, int]], Tuple[str, int]]] = None,
        event_dispatcher: Optional[EventDispatcher] = None,
        policy_resolver: AsyncPolicyResolver = AsyncStaticPolicyResolver(),
    ) -> None:
        if db:
            raise RedisClusterException("Argument 'db' must be 0 or None in cluster mode")
        if path:
            raise RedisClusterException("Unix domain socket is not supported in cluster mode")
        if (not host or not port) and not startup_nodes:
            raise RedisClusterException(
                "RedisCluster requires at least one node to discover the cluster.\n"
                "Please provide one of the following or use RedisCluster.from_url:\n"
                '   - host and port: RedisCluster(host="localhost", port=6379)\n'
                "   - startup_nodes: RedisCluster(startup_nodes=["
                'ClusterNode("localhost", 6379), ClusterNode("localhost", 6380)])'
            )

        kwargs: Dict[str, Any] = {
            "max_connections": max_connections,
            "connection_class": Connection,
            "credential_provider": credential_provider,
            "username": username,
            "password": password,
            "client_name": client_name,
            "driver_info": resolve_driver_info(driver_info, lib_name, lib_version),
            "encoding": encoding,
            "encoding_errors": encoding_errors,
            "decode_responses": decode_responses,
            "health_check_interval": health_check_interval,
            "socket_connect_timeout": socket_connect_timeout,
            "socket_keepalive": socket_keepalive,
            "socket_keepalive_options": socket_keepalive_options,
            "socket_timeout": socket_timeout,
            "protocol": protocol,
        }
        if ssl:
            kwargs.update({
                "connection_class": SSLConnection,
                "ssl_ca_certs": ssl_ca_certs,
                "ssl_ca_data": ssl_ca_data,
                "ssl_cert_reqs": ssl_cert_reqs,
                "ssl_include_verify_flags": ssl_include_verify_flags,
                "ssl_exclude_verify_flags": ssl_exclude_verify_flags,
                "ssl_certfile": ssl_certfile,
                "ssl_check_hostname": ssl_check_hostname,
                "ssl_keyfile": ssl_keyfile,
                "ssl_min_version": ssl_min_version,
                "ssl_ciphers": ssl_ciphers,
            })
        if read_from_replicas or load_balancing_strategy:
            # every connection is made READONLY (see on_connect)
            kwargs["redis_connect_func"] = self.on_connect

        self.retry = retry if retry else Retry(
            backoff=ExponentialWithJitterBackoff(base=1, cap=10),
            retries=cluster_error_retry_attempts,
        )
        if retry_on_error:
            self.retry.update_supported_errors(retry_on_error)

        # one callback table, shared by the client and every node
        kwargs["response_callbacks"] = _client_callbacks()
        self.connection_kwargs = kwargs

        nodes = [ClusterNode(node.host, node.port, **kwargs) for node in startup_nodes or ()]
        if host and port:
            nodes.append(ClusterNode(host, port, **kwargs))
        self._event_dispatcher = event_dispatcher if event_dispatcher is not None \
            else EventDispatcher()
        self.startup_nodes = nodes
        self.nodes_manager = NodesManager(
            nodes, require_full_coverage, kwargs,
            dynamic_startup_nodes=dynamic_startup_nodes,
            address_remap=address_remap,
            event_dispatcher=self._event_dispatcher,
        )
        self.encoder = Encoder(encoding, encoding_errors, decode_responses)
        self.read_from_replicas = read_from_replicas
        self.load_balancing_strategy = load_balancing_strategy
        self.reinitialize_steps = reinitialize_steps
        self.reinitialize_counter = 0

        cls = self.__class__
        self._command_flags_mapping: Dict[str, Union[RequestPolicy, ResponsePolicy]] = {
            cls.RANDOM: RequestPolicy.DEFAULT_KEYLESS,
            cls.PRIMARIES: RequestPolicy.ALL_SHARDS,
            cls.ALL_NODES: RequestPolicy.ALL_NODES,
            cls.REPLICAS: RequestPolicy.ALL_REPLICAS,
            cls.DEFAULT_NODE: RequestPolicy.DEFAULT_NODE,
            SLOT_ID: RequestPolicy.DEFAULT_KEYED,
        }
        self._policies_callback_mapping: Dict[Union[RequestPolicy, ResponsePolicy], Callable] = {
            RequestPolicy.DEFAULT_KEYLESS:
                lambda command_name: [self.get_random_primary_or_all_nodes(command_name)],
            RequestPolicy.DEFAULT_KEYED: self.get_nodes_from_slot,
            RequestPolicy.DEFAULT_NODE: lambda: [self.get_default_node()],
            RequestPolicy.ALL_SHARDS: self.get_primaries,
            RequestPolicy.ALL_NODES: self.get_nodes,
            RequestPolicy.ALL_REPLICAS: self.get_replicas,
            RequestPolicy.SPECIAL: self.get_special_nodes,
            ResponsePolicy.DEFAULT_KEYLESS: _same,
            ResponsePolicy.DEFAULT_KEYED: _same,
        }
        self._policy_resolver = policy_resolver
        self.commands_parser = AsyncCommandsParser()
        self._aggregate_nodes: Optional[List["ClusterNode"]] = None
        self.node_flags = cls.NODE_FLAGS.copy()
        self.command_flags = cls.COMMAND_FLAGS.copy()
        self.response_callbacks = kwargs["response_callbacks"]
        self.result_callbacks = cls.RESULT_CALLBACKS.copy()
        self.result_callbacks["CLUSTER SLOTS"] = (
            lambda cmd, res, **kw: parse_cluster_slots(list(res.values())[0], **kw))

        self._initialize = True
        self._lock: Optional[asyncio.Lock] = None
        # commands routed without awaiting (see _fast_slot), per COMMAND table
        self._fast_specs: Dict[Any, Any] = {}
        self._fast_specs_source: Any = None
        # async with: the client closes when the last context exits
        self._usage_counter = 0
        self._usage_lock = asyncio.Lock()

    # -- life cycle ------------------------------------------------------------
    async def initialize(self) -> "RedisCluster":
        """Discover the nodes and slots (once; again after errors that
        invalidate the topology) and load the COMMAND table."""
        if self._initialize:
            if not self._lock:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._initialize:
                    try:
                        await self.nodes_manager.initialize()
                        await self.commands_parser.initialize(self.nodes_manager.default_node)
                        self._initialize = False
                    except BaseException:
                        await self.nodes_manager.aclose()
                        await self.nodes_manager.aclose("startup_nodes")
                        raise
        return self

    async def aclose(self) -> None:
        """Close every node's connections (the client initializes again on next use)."""
        if not self._initialize:
            if not self._lock:
                self._lock = asyncio.Lock()
            async with self._lock:
                if not self._initialize:
                    self._initialize = True
                    await self.nodes_manager.aclose()
                    await self.nodes_manager.aclose("startup_nodes")

    @deprecated_function(version="5.0.0", reason="Use aclose() instead", name="close")
    async def close(self) -> None:
        """Deprecated alias of :meth:`aclose`."""
        await self.aclose()

    async def __aenter__(self) -> "RedisCluster":
        await self._increment_usage()
        try:
            return await self.initialize()
        except Exception:
            await self._decrement_usage()
            raise

    # the single-node client's usage counting: nested ``async with`` blocks
    # close the client when the outermost one ends
    _increment_usage = Redis._increment_usage
    _decrement_usage = Redis._decrement_usage
    __aexit__ = Redis.__aexit__

    def __await__(self) -> Generator[Any, None, "RedisCluster"]:
        return self.initialize().__await__()

    _DEL_MESSAGE = "Unclosed RedisCluster client"

    def __del__(self, _warn: Any = warnings.warn,
                _grl: Any = asyncio.get_running_loop) -> None:
        if getattr(self, "_initialize", True) is False:
            _warn(f"{self._DEL_MESSAGE} {self!r}", ResourceWarning, source=self)
            try:
                _grl().call_exception_handler({"client": self, "message": self._DEL_MESSAGE})
            except RuntimeError:
                pass

    async def on_connect(self, connection: Connection) -> None:
        """Every new node connection when replicas serve reads: the usual
        handshake, then READONLY (harmless on a primary)."""
        await connection.on_connect()
        await connection.send_command("READONLY")
        if str_if_bytes(await connection.read_response()) != "OK":
            raise ConnectionError("READONLY command failed")

    # -- nodes -----------------------------------------------------------------
    def get_nodes(self) -> List["ClusterNode"]:
        """Every known node."""
        return list(self.nodes_manager.nodes_cache.values())

    def get_primaries(self) -> List["ClusterNode"]:
        """The primary nodes."""
        return self.nodes_manager.get_nodes_by_server_type(PRIMARY)

    def get_replicas(self) -> List["ClusterNode"]:
        """The replica nodes."""
        return self.nodes_manager.get_nodes_by_server_type(REPLICA)

    def get_random_node(self) -> "ClusterNode":
        """Any node, chosen at random."""
        return random.choice(list(self.nodes_manager.nodes_cache.values()))

    def get_default_node(self) -> "ClusterNode":
        """The node of commands without a key or a routing flag."""
        return self.nodes_manager.default_node

    def set_default_node(self, node: "ClusterNode") -> None:
        """Make ``node`` (a known node) the default node; DataError otherwise."""
        if not node or not self.get_node(node_name=node.name):
            raise DataError("The requested node does not exist in the cluster.")
        self.nodes_manager.default_node = node

    def get_node(self, host: Optional[str] = None, port: Optional[int] = None,
                 node_name: Optional[str] = None) -> Optional["ClusterNode"]:
        """The known node at ``host``/``port`` or named ``node_name``, or None."""
        return self.nodes_manager.get_node(host, port, node_name)

    def get_node_from_key(self, key: str, replica: bool = False) -> Optional["ClusterNode"]:
        """The primary serving ``key``'s slot, or with ``replica`` its first
        replica (None when it has none); SlotNotCoveredError for an
        unserved slot."""
        slot = self.keyslot(key)
        nodes = self.nodes_manager.slots_cache.get(slot)
        if not nodes:
            raise SlotNotCoveredError(f'Slot "{slot}" is not covered by the cluster.')
        if replica:
            return nodes[1] if len(nodes) >= 2 else None
        return nodes[0]

    def get_random_primary_or_all_nodes(self, command_name: str) -> "ClusterNode":
        """Any node for a read command while replicas serve reads, else a random primary."""
        if self.read_from_replicas and command_name in READ_COMMANDS:
            return self.get_random_node()
        return self.get_random_primary_node()

    def get_random_primary_node(self) -> "ClusterNode":
        """A primary chosen at random."""
        return random.choice(self.get_primaries())

    async def get_nodes_from_slot(self, command: str, *args: Any) -> List["ClusterNode"]:
        """[the node of the slot of ``args``' keys] (a replica for a read
        command while replicas serve reads)."""
        return [self.nodes_manager.get_node_from_slot(
            await self._determine_slot(command, *args),
            self.read_from_replicas and command in READ_COMMANDS,
            self.load_balancing_strategy if command in READ_COMMANDS else None,
        )]

    def get_special_nodes(self) -> Optional[List["ClusterNode"]]:
        """The nodes of the last FT.AGGREGATE (for FT.CURSOR)."""
        if not self._aggregate_nodes:
            raise RedisClusterException("Cannot execute FT.CURSOR commands without FT.AGGREGATE")
        return self._aggregate_nodes

    def keyslot(self, key: EncodableT) -> int:
        """The hash slot of ``key`` (encoded as the client encodes arguments)."""
        return key_slot(self.encoder.encode(key))

    def get_encoder(self) -> Encoder:
        """The client's Encoder."""
        return self.encoder

    def get_connection_kwargs(self) -> Dict[str, Optional[Any]]:
        """The keyword arguments node connections are created with."""
        return self.connection_kwargs

    def set_retry(self, retry: Retry) -> None:
        """Replace the cluster-level retry policy."""
        self.retry = retry

    def set_response_callback(self, command: str, callback: ResponseCallbackT) -> None:
        """Post-process ``command``'s replies with ``callback(reply, **options)``."""
        self.response_callbacks[command] = callback

    # -- routing ---------------------------------------------------------------
    async def _determine_nodes(self, command: str, *args: Any, request_policy: RequestPolicy,
                               node_flag: Optional[str] = None) -> List["ClusterNode"]:
        if not node_flag:
            node_flag = self.command_flags.get(command)
        if node_flag in self._command_flags_mapping:
            request_policy = self._command_flags_mapping[node_flag]
        chooser = self._policies_callback_mapping[request_policy]
        if request_policy == RequestPolicy.DEFAULT_KEYED:
            nodes = await chooser(command, *args)
        elif request_policy == RequestPolicy.DEFAULT_KEYLESS:
            nodes = chooser(command)
        else:
            nodes = chooser()
        if command.lower() == "ft.aggregate":
            self._aggregate_nodes = nodes
        return nodes

    async def _determine_slot(self, command: str, *args: Any) -> int:
        if self.command_flags.get(command) == SLOT_ID:
            return int(args[0])
        if command.upper() in ("EVAL", "EVALSHA"):
            # EVAL script numkeys key...: routed by its keys, any slot without
            if len(args) < 2:
                raise RedisClusterException(f"Invalid args in command: {command, *args}")
            keys = args[2: 2 + int(args[1])]
            if not keys:
                return random.randrange(0, REDIS_CLUSTER_HASH_SLOTS)
        else:
            keys = await self.commands_parser.get_keys(command, *args)
        return _slot_of_keys(self, command, keys, args)

    def _is_node_flag(self, target_nodes: Any) -> bool:
        return isinstance(target_nodes, str) and target_nodes in self.node_flags

    def _parse_target_nodes(self, target_nodes: Any) -> List["ClusterNode"]:
        if isinstance(target_nodes, list):
            return target_nodes
        if isinstance(target_nodes, ClusterNode):
            return [target_nodes]
        if isinstance(target_nodes, dict):
            return list(target_nodes.values())
        raise TypeError(
            "target_nodes type can be one of the following: "
            "node_flag (PRIMARIES, REPLICAS, RANDOM, ALL_NODES),"
            "ClusterNode, list<ClusterNode>, or dict<any, ClusterNode>. "
            f"The passed type is {type(target_nodes)}"
        )

    async def _command_policies(self, args: Tuple[Any, ...], targets_given: bool,
                                node_flag: Optional[str] = None) -> CommandPolicies:
        """The request/response policies of a command: its resolver's, else
        from its routing flag or (keyed) from its keys.  With a node flag
        given (``target_nodes=RedisCluster.ALL_NODES``...) the keys are not
        looked at: the flag chooses the nodes."""
        policies = await self._policy_resolver.resolve(args[0].lower())
        if policies:
            return policies
        if targets_given:
            return CommandPolicies()
        flag = self.command_flags.get(args[0])
        if flag:
            if flag in self._command_flags_mapping:
                return CommandPolicies(request_policy=self._command_flags_mapping[flag])
            return CommandPolicies()
        if node_flag or not self.get_default_node():
            return CommandPolicies()
        # raises for a command without key or with keys of several slots
        await self._determine_slot(*args)
        return CommandPolicies(request_policy=RequestPolicy.DEFAULT_KEYED,
                               response_policy=ResponsePolicy.DEFAULT_KEYED)

    def _fast_slot(self, args: Tuple[Any, ...]) -> Optional[int]:
        """The slot of a command routed by its keys alone (fixed key
        positions in COMMAND, no policy, no routing flag), found without
        awaiting anything; None when the general path must decide (or when
        a routing method was replaced: the stand-in rule)."""
        if not self._fast_routing_allowed():
            return None
        parser = self.commands_parser
        if self._fast_specs_source is not parser.commands:
            self._fast_specs = {}
            self._fast_specs_source = parser.commands
        command = args[0]
        spec = self._fast_specs.get(command, _UNKNOWN)
        if spec is _UNKNOWN:
            spec = self._fast_specs[command] = self._fast_spec(command)
        if spec is None or command in self.command_flags:
            return None
        first, last, step = spec
        if last < 0:
            last = len(args) + last
        keys = args[first: last + 1: step]
        if not keys:
            return None
        encode = self.encoder.encode
        slot = key_slot(encode(keys[0]))
        for key in keys[1:]:
            if key_slot(encode(key)) != slot:
                return None         # the general path raises the cross-slot error
        return slot

    def _fast_routing_allowed(self) -> bool:
        tp = type(self)
        parser = self.commands_parser
        resolver = self._policy_resolver
        return (tp._determine_slot is _DETERMINE_SLOT and tp._determine_nodes is _DETERMINE_NODES
                and tp.get_nodes_from_slot is _GET_NODES_FROM_SLOT
                and tp._command_policies is _COMMAND_POLICIES
                and _ROUTING_NAMES.isdisjoint(self.__dict__)
                and type(parser) is AsyncCommandsParser and "get_keys" not in parser.__dict__
                and type(resolver) is AsyncStaticPolicyResolver and resolver._fallback is None
                and "resolve" not in resolver.__dict__)

    def _fast_spec(self, command: Any) -> Optional[Tuple[int, int, int]]:
        if not isinstance(command, str) or command.upper() in _SPECIAL_ROUTING:
            return None
        name = command.lower()
        if "." in name or " " in name or name in STATIC_POLICIES["core"]:
            return None
        info = self.commands_parser.commands.get(name)
        if info is None:
            return None
        flags = info.get("flags", ())
        first, last, step = info["first_key_pos"], info["last_key_pos"], info["step_count"]
        if "movablekeys" in flags or "pubsub" in flags or info.get("name") == "pubsub" \
                or first <= 0 or step <= 0:
            return None
        return first, last, step

    async def _execute_keyed(self, slot: int, args: Tuple[Any, ...],
                             kwargs: Dict[str, Any]) -> Any:
        """The general path's loop for a command of one known slot."""
        command = args[0]
        read = command in READ_COMMANDS
        retry_attempts = self.retry.get_retries()
        for _ in range(1 + retry_attempts):
            if self._initialize:
                await self.initialize()
            try:
                node = self.nodes_manager.get_node_from_slot(
                    slot, self.read_from_replicas and read,
                    self.load_balancing_strategy if read else None)
                ret = await self._execute_command(node, *args, **kwargs)
                if command in self.result_callbacks:
                    ret = self.result_callbacks[command](command, {node.name: ret}, **kwargs)
                return ret
            except Exception as e:
                if retry_attempts > 0 and type(e) in self.__class__.ERRORS_ALLOW_RETRY:
                    retry_attempts -= 1
                    continue
                raise e

    async def execute_command(self, *args: EncodableT, **kwargs: Any) -> Any:
        """Run a raw command on its node(s) (``target_nodes=`` to choose
        them) and combine the replies; retried on a refreshed topology after
        the errors of ``ERRORS_ALLOW_RETRY`` as often as ``self.retry``
        allows (never with explicit target nodes)."""
        command = args[0]
        passed_targets = kwargs.pop("target_nodes", None)
        if passed_targets is None and not self._initialize:
            # the common command: one slot, known without awaiting
            slot = self._fast_slot(args)
            if slot is not None:
                return await self._execute_keyed(slot, args, kwargs)
        target_nodes: List[ClusterNode] = []
        targets_given = False
        retry_attempts = self.retry.get_retries()
        if passed_targets and not self._is_node_flag(passed_targets):
            target_nodes = self._parse_target_nodes(passed_targets)
            targets_given = True
            retry_attempts = 0
        if self._initialize:
            # route with the real topology from the first command on
            await self.initialize()
        policies = await self._command_policies(args, targets_given, passed_targets)

        for _ in range(1 + retry_attempts):
            if self._initialize:
                await self.initialize()
                if len(target_nodes) == 1 and target_nodes[0] == self.get_default_node():
                    self.replace_default_node()
            try:
                if not targets_given:
                    target_nodes = await self._determine_nodes(
                        *args, request_policy=policies.request_policy, node_flag=passed_targets)
                    if not target_nodes:
                        raise RedisClusterException(
                            f"No targets were found to execute {args} command on")
                respond = self._policies_callback_mapping[policies.response_policy]
                if len(target_nodes) == 1:
                    node = target_nodes[0]
                    ret = await self._execute_command(node, *args, **kwargs)
                    if command in self.result_callbacks:
                        ret = self.result_callbacks[command](command, {node.name: ret}, **kwargs)
                    return respond(ret)
                names = [node.name for node in target_nodes]
                values = await asyncio.gather(*(
                    asyncio.create_task(self._execute_command(node, *args, **kwargs))
                    for node in target_nodes))
                if command in self.result_callbacks:
                    return self.result_callbacks[command](command, dict(zip(names, values)),
                                                          **kwargs)
                return respond(dict(zip(names, values)))
            except Exception as e:
                if retry_attempts > 0 and type(e) in self.__class__.ERRORS_ALLOW_RETRY:
                    # again (after a refresh, when the error marked the topology stale)
                    retry_attempts -= 1
                    continue
                raise e

    async def _execute_command(self, target_node: "ClusterNode", *args: Union[KeyT, EncodableT],
                               **kwargs: Any) -> Any:
        """Run a command on ``target_node``, following MOVED/ASK/TRYAGAIN up
        to ``RedisClusterRequestTTL`` times."""
        asking = moved = False
        redirect_addr = None
        ttl = self.RedisClusterRequestTTL
        while ttl > 0:
            ttl -= 1
            try:
                if asking:
                    target_node = self.get_node(node_name=redirect_addr)
                    asking = False
                    if _node_native(target_node):
                        return await target_node._execute_asking(args, kwargs)
                    # a replaced execute_command is called as redis-py calls it
                    await target_node.execute_command("ASKING")
                if moved:
                    # the slot table was patched or is to be refreshed: look
                    # again (redis-py 7.4.1 looks in the closed, stale table
                    # after a refresh, and runs out of TTL)
                    if self._initialize:
                        await self.initialize()
                    slot = await self._determine_slot(*args)
                    target_node = self.nodes_manager.get_node_from_slot(
                        slot,
                        self.read_from_replicas and args[0] in READ_COMMANDS,
                        self.load_balancing_strategy if args[0] in READ_COMMANDS else None,
                    )
                    moved = False
                return await target_node.execute_command(*args, **kwargs)
            except (BusyLoadingError, MaxConnectionsError) as e:
                # the node is loading / this client ran out of connections:
                # nothing to learn about the topology
                e.connection = target_node
                raise
            except (ConnectionError, TimeoutError) as e:
                # stale connections (READONLY state...) go; the node is tried
                # last from now on and the topology is refreshed before a retry
                target_node.update_active_connections_for_reconnect()
                await target_node.disconnect_free_connections()
                self.nodes_manager.move_node_to_end_of_cached_nodes(target_node.name)
                self._initialize = True
                e.connection = target_node
                raise
            except (ClusterDownError, SlotNotCoveredError) as e:
                # a failover in progress or a topology not settled yet
                await self.aclose()
                await asyncio.sleep(0.25)
                e.connection = target_node
                raise
            except MovedError as e:
                # patch the slot table with the new owner; every
                # reinitialize_steps MOVED replies, refresh everything
                self.reinitialize_counter += 1
                if self.reinitialize_steps and \
                        self.reinitialize_counter % self.reinitialize_steps == 0:
                    await self.aclose()
                    self.reinitialize_counter = 0
                else:
                    self.nodes_manager.move_slot(e)
                moved = True
            except AskError as e:
                redirect_addr = get_node_name(host=e.host, port=e.port)
                if self.get_node(node_name=redirect_addr) is None:
                    # a node this client has not seen yet
                    node = ClusterNode(e.host, e.port, PRIMARY,
                                       **self.nodes_manager.connection_kwargs)
                    self.nodes_manager.set_nodes(self.nodes_manager.nodes_cache,
                                                 {node.name: node})
                    redirect_addr = node.name
                asking = True
            except TryAgainError:
                if ttl < self.RedisClusterRequestTTL / 2:
                    await asyncio.sleep(0.05)
            except Exception as e:
                e.connection = target_node
                raise
        e = ClusterError("TTL exhausted.")
        e.connection = target_node
        raise e

    # -- helpers ---------------------------------------------------------------
    def pipeline(self, transaction: Optional[Any] = None,
                 shard_hint: Optional[Any] = None) -> "ClusterPipeline":
        """A :class:`ClusterPipeline` on this client (``transaction=True``:
        MULTI/EXEC on the primary of the commands' one slot)."""
        if shard_hint:
            raise RedisClusterException("shard_hint is deprecated in cluster mode")
        return ClusterPipeline(self, transaction)

    def lock(self, name: KeyT, timeout: Optional[float] = None, sleep: float = 0.1,
             blocking: bool = True, blocking_timeout: Optional[float] = None,
             lock_class: Optional[Type[Lock]] = None, thread_local: bool = True,
             raise_on_release_error: bool = True) -> Lock:
        """An asyncio :class:`~redis_native.asyncio.lock.Lock` named ``name``;
        its scripts run on the node of ``name``'s slot."""
        if lock_class is None:
            lock_class = Lock
        return lock_class(self, name, timeout=timeout, sleep=sleep, blocking=blocking,
                          blocking_timeout=blocking_timeout, thread_local=thread_local,
                          raise_on_release_error=raise_on_release_error)

    async def transaction(self, func: Coroutine[None, "ClusterPipeline", Any], *watches: Any,
                          **kwargs: Any) -> Any:
        """Run ``await func(pipe)`` in a WATCH/MULTI/EXEC transaction on
        ``watches`` (keys of one slot), again whenever a watched key
        changed; EXEC's results, or with ``value_from_callable=True`` what
        ``func`` returned (``watch_delay`` seconds between tries)."""
        shard_hint = kwargs.pop("shard_hint", None)
        value_from_callable = kwargs.pop("value_from_callable", False)
        watch_delay = kwargs.pop("watch_delay", None)
        async with self.pipeline(True, shard_hint) as pipe:
            while True:
                try:
                    if watches:
                        await pipe.watch(*watches)
                    func_value = await func(pipe)
                    exec_value = await pipe.execute()
                    return func_value if value_from_callable else exec_value
                except WatchError:
                    if watch_delay is not None and watch_delay > 0:
                        await asyncio.sleep(watch_delay)
                    continue


def _same(res: Any) -> Any:
    return res


_UNKNOWN = object()
# the routing methods _fast_slot may stand in for
_DETERMINE_SLOT = RedisCluster._determine_slot
_DETERMINE_NODES = RedisCluster._determine_nodes
_GET_NODES_FROM_SLOT = RedisCluster.get_nodes_from_slot
_COMMAND_POLICIES = RedisCluster._command_policies
_ROUTING_NAMES = frozenset(["_determine_slot", "_determine_nodes", "get_nodes_from_slot",
                            "_command_policies"])


class ClusterNode:
    """One node of the cluster: its address, role (``server_type``) and
    the :class:`~redis_native.asyncio.connection.Connection` objects this
    client holds to it (at most ``max_connections``; MaxConnectionsError
    beyond)."""

    def __init__(
        self,
        host: str,
        port: Union[str, int],
        server_type: Optional[str] = None,
        *,
        max_connections: int = 2**31,
        connection_class: Type[Connection] = Connection,
        **connection_kwargs: Any,
    ) -> None:
        if host == "localhost":
            host = socket.gethostbyname(host)
        connection_kwargs["host"] = host
        connection_kwargs["port"] = port
        self.host = host
        self.port = port
        self.name = get_node_name(host, port)
        self.server_type = server_type
        self.max_connections = max_connections
        self.connection_class = connection_class
        self.connection_kwargs = connection_kwargs
        self.response_callbacks = connection_kwargs.pop("response_callbacks", {})
        self._connections: List[Connection] = []
        self._free: Deque[Connection] = collections.deque(maxlen=self.max_connections)
        self._event_dispatcher = self.connection_kwargs.get("event_dispatcher", None)
        if self._event_dispatcher is None:
            self._event_dispatcher = EventDispatcher()

    def __repr__(self) -> str:
        return (f"[host={self.host}, port={self.port}, "
                f"name={self.name}, server_type={self.server_type}]")

    def __eq__(self, obj: Any) -> bool:
        return isinstance(obj, ClusterNode) and obj.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    _DEL_MESSAGE = "Unclosed ClusterNode object"

    def __del__(self, _warn: Any = warnings.warn,
                _grl: Any = asyncio.get_running_loop) -> None:
        for connection in getattr(self, "_connections", ()):
            if connection.is_connected:
                _warn(f"{self._DEL_MESSAGE} {self!r}", ResourceWarning, source=self)
                try:
                    _grl().call_exception_handler({"client": self,
                                                   "message": self._DEL_MESSAGE})
                except RuntimeError:
                    pass
                break

    async def disconnect(self) -> None:
        """Close every connection of this node."""
        ret = await asyncio.gather(
            *(asyncio.create_task(connection.disconnect()) for connection in self._connections),
            return_exceptions=True,
        )
        exc = next((res for res in ret if isinstance(res, Exception)), None)
        if exc:
            raise exc

    def acquire_connection(self) -> Connection:
        """An idle connection, or a new one (MaxConnectionsError past
        ``max_connections``).  Its connections do not retry by themselves:
        the cluster client retries after looking at the topology again."""
        try:
            return self._free.popleft()
        except IndexError:
            if len(self._connections) < self.max_connections:
                kwargs = self.connection_kwargs.copy()
                kwargs["retry"] = Retry(backoff=NoBackoff(), retries=0,
                                        supported_errors=(ConnectionError,))
                connection = self.connection_class(**kwargs)
                self._connections.append(connection)
                return connection
            raise MaxConnectionsError()

    async def disconnect_if_needed(self, connection: Connection) -> None:
        """Disconnect ``connection`` if it was marked for reconnect (it
        reconnects on its next use)."""
        if connection.should_reconnect():
            await connection.disconnect()

    def release(self, connection: Connection) -> None:
        """Give ``connection`` back to the idle queue."""
        self._free.append(connection)

    def update_active_connections_for_reconnect(self) -> None:
        """Mark the connections in use for reconnect (they are dropped once released)."""
        free = set(self._free)
        for connection in self._connections:
            if connection not in free:
                connection.mark_for_reconnect()

    async def disconnect_free_connections(self) -> None:
        """Close the idle connections (they reconnect on next use)."""
        if self._free:
            await asyncio.gather(*(connection.disconnect() for connection in tuple(self._free)),
                                 return_exceptions=True)

    async def parse_response(self, connection: Connection, command: str, **kwargs: Any) -> Any:
        """Read one reply from ``connection`` and apply ``command``'s callback."""
        try:
            if NEVER_DECODE in kwargs:
                response = await connection.read_response(disable_decoding=True)
                kwargs.pop(NEVER_DECODE)
            else:
                response = await connection.read_response()
        except ResponseError:
            if EMPTY_RESPONSE in kwargs:
                return kwargs[EMPTY_RESPONSE]
            raise
        kwargs.pop(EMPTY_RESPONSE, None)
        kwargs.pop("keys", None)
        if command in self.response_callbacks:
            return self.response_callbacks[command](response, **kwargs)
        return response

    def _native(self, connection: Connection) -> bool:
        """C may run the command on ``connection`` (the stand-in rule: this
        node's parse_response and the connection's I/O methods are redis_native's)."""
        return type(self).parse_response is _NODE_PARSE_RESPONSE \
            and "parse_response" not in self.__dict__ and _conn_native(connection)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        """Run one command on a connection of this node; its result after
        the response callback."""
        connection = self.acquire_connection()
        try:
            await self.disconnect_if_needed(connection)
            if self._native(connection):
                result = await connection._roundtrip(args, kwargs, self.response_callbacks)
            else:
                await connection.send_packed_command(connection.pack_command(*args), False)
                result = await self.parse_response(connection, args[0], **kwargs)
        finally:
            await self.disconnect_if_needed(connection)
            self._free.append(connection)
        if isinstance(result, _AWAITABLE_RESULTS):
            result = await result
        return result

    async def _execute_asking(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        """ASKING and the command on the same connection (one write)."""
        connection = self.acquire_connection()
        try:
            await self.disconnect_if_needed(connection)
            await connection.send_packed_command(
                connection.pack_commands([("ASKING",), args]), False)
            try:
                await self.parse_response(connection, "ASKING")
            except ResponseError:
                # the command's reply is still owed: read it before raising
                await connection.read_response()
                raise
            result = await self.parse_response(connection, args[0], **kwargs)
        except ResponseError:
            raise
        except BaseException:
            await connection.disconnect(nowait=True)
            raise
        finally:
            self._free.append(connection)
        if isinstance(result, _AWAITABLE_RESULTS):
            result = await result
        return result

    async def re_auth_callback(self, token: Any) -> None:
        """AUTH every idle connection with ``token`` (its ``oid`` claim and
        value): the hook of a streaming credential provider."""
        done: Deque[Connection] = collections.deque()
        while self._free:
            conn = self._free.popleft()
            await conn.retry.call_with_retry(
                lambda: conn.send_command("AUTH", token.try_get("oid"), token.get_value()),
                lambda error: self._mock(error))
            await conn.retry.call_with_retry(lambda: conn.read_response(),
                                             lambda error: self._mock(error))
            done.append(conn)
        while done:
            self._free.append(done.popleft())

    async def _mock(self, error: RedisError) -> None:
        """The failure hook of :meth:`re_auth_callback`'s retries: nothing to do."""

    async def execute_pipeline(self, commands: List["PipelineCommand"]) -> bool:
        """Send ``commands`` in one write on one connection and store each
        result (or error) in ``cmd.result``; True when any failed."""
        connection = self.acquire_connection()
        try:
            await self.disconnect_if_needed(connection)
            if self._native(connection):
                # errors before anything is sent (connect) propagate, as redis-py's
                await connection._ensure_connected(True)
                return await self._native_pipeline(connection, commands)
            await connection.send_packed_command(
                connection.pack_commands(cmd.args for cmd in commands), False)
            failed = False
            for cmd in commands:
                try:
                    cmd.result = await self.parse_response(connection, cmd.args[0],
                                                           **cmd.kwargs)
                except Exception as e:
                    cmd.result = e
                    failed = True
            return failed
        finally:
            await self.disconnect_if_needed(connection)
            self._free.append(connection)

    async def _native_pipeline(self, connection: Connection,
                               commands: List["PipelineCommand"]) -> bool:
        try:
            replies = await connection._pipeline_roundtrip(
                [(cmd.args, cmd.kwargs) for cmd in commands])
        except Exception as e:
            for cmd in commands:
                cmd.result = e
            return True
        failed = False
        callbacks = self.response_callbacks
        for cmd, reply in zip(commands, replies):
            options = cmd.kwargs
            if isinstance(reply, Exception):
                if EMPTY_RESPONSE in options and isinstance(reply, ResponseError):
                    cmd.result = options[EMPTY_RESPONSE]
                else:
                    cmd.result = reply
                    failed = True
                continue
            callback = callbacks.get(cmd.args[0])
            try:
                if callback is None:
                    result = reply
                elif options:
                    result = callback(reply, **_callback_options(options))
                else:
                    result = callback(reply)
                if isinstance(result, _AWAITABLE_RESULTS):
                    result = await result
            except Exception as e:
                result = e
                failed = True
            cmd.result = result
        return failed


_NODE_PARSE_RESPONSE = ClusterNode.parse_response
_NODE_EXECUTE_COMMAND = ClusterNode.execute_command


def _node_native(node: Any) -> bool:
    """``node.execute_command`` is ClusterNode's own (neither replaced on the
    class nor on the instance): ASK may take the one-write path."""
    return getattr(type(node), "execute_command", None) is _NODE_EXECUTE_COMMAND \
        and "execute_command" not in getattr(node, "__dict__", ())


class NodesManager:
    """The cluster's topology: ``nodes_cache`` (name -> :class:`ClusterNode`),
    ``slots_cache`` (slot -> ``[primary, replica...]``), ``startup_nodes``
    and ``default_node``, refreshed by :meth:`initialize` from ``CLUSTER SLOTS``."""

    def __init__(
        self,
        startup_nodes: List["ClusterNode"],
        require_full_coverage: bool,
        connection_kwargs: Dict[str, Any],
        dynamic_startup_nodes: bool = True,
        address_remap: Optional[Callable[[Tuple[str, int]], Tuple[str, int]]] = None,
        event_dispatcher: Optional[EventDispatcher] = None,
    ) -> None:
        self.startup_nodes = {node.name: node for node in startup_nodes}
        self.require_full_coverage = require_full_coverage
        self.connection_kwargs = connection_kwargs
        self.address_remap = address_remap
        self.default_node: "ClusterNode" = None
        self.nodes_cache: Dict[str, "ClusterNode"] = {}
        self.slots_cache: Dict[int, List["ClusterNode"]] = {}
        self._epoch = 0
        self.read_load_balancer = LoadBalancer()
        self._initialize_lock = asyncio.Lock()
        self._background_tasks: Set[asyncio.Task] = set()
        self._dynamic_startup_nodes = dynamic_startup_nodes
        self._event_dispatcher = event_dispatcher if event_dispatcher is not None \
            else EventDispatcher()

    def get_node(self, host: Optional[str] = None, port: Optional[int] = None,
                 node_name: Optional[str] = None) -> Optional["ClusterNode"]:
        """The known node at ``host``/``port`` or named ``node_name``, or None."""
        if host and port:
            if host == "localhost":
                host = socket.gethostbyname(host)
            return self.nodes_cache.get(get_node_name(host=host, port=port))
        if node_name:
            return self.nodes_cache.get(node_name)
        raise DataError("get_node requires one of the following: 1. node name 2. host and port")

    def set_nodes(self, old: Dict[str, "ClusterNode"], new: Dict[str, "ClusterNode"],
                  remove_old: bool = False) -> None:
        """Merge ``new`` into ``old``: known nodes stay (their connections
        are marked for reconnect), new ones are added, and with
        ``remove_old`` the nodes missing from ``new`` are dropped and closed."""
        if remove_old:
            for name in list(old):
                if name not in new:
                    removed = old.pop(name)
                    removed.update_active_connections_for_reconnect()
                    task = asyncio.create_task(removed.disconnect_free_connections())
                    self._background_tasks.add(task)
                    task.add_done_callback(self._background_tasks.discard)
        for name, node in new.items():
            if name in old:
                existing = old[name]
                existing.update_active_connections_for_reconnect()
                for conn in existing._free:
                    conn.mark_for_reconnect()
                continue
            old[name] = node

    def move_node_to_end_of_cached_nodes(self, node_name: str) -> None:
        """Try the failing node ``node_name`` last (startup nodes, default node choice)."""
        if node_name in self.startup_nodes and len(self.startup_nodes) > 1:
            self.startup_nodes[node_name] = self.startup_nodes.pop(node_name)
        if node_name in self.nodes_cache and len(self.nodes_cache) > 1:
            self.nodes_cache[node_name] = self.nodes_cache.pop(node_name)

    def move_slot(self, e: Union[AskError, MovedError]) -> None:
        """Patch the slot table after a MOVED: the redirection's node now owns the slot."""
        redirected = self.get_node(host=e.host, port=e.port)
        if redirected:
            if redirected.server_type != PRIMARY:
                redirected.server_type = PRIMARY
        else:
            redirected = ClusterNode(e.host, e.port, PRIMARY, **self.connection_kwargs)
            self.set_nodes(self.nodes_cache, {redirected.name: redirected})
        slot_nodes = self.slots_cache.get(e.slot_id)
        if slot_nodes is None or redirected not in slot_nodes:
            # another shard's node (or a new one) owns the slot now
            self.slots_cache[e.slot_id] = [redirected]
        elif redirected is not slot_nodes[0]:
            # a failover: the replica became the primary
            old_primary = slot_nodes[0]
            old_primary.server_type = REPLICA
            slot_nodes.append(old_primary)
            slot_nodes.remove(redirected)
            slot_nodes[0] = redirected
            if self.default_node == old_primary:
                self.default_node = redirected

    def get_node_from_slot(self, slot: int, read_from_replicas: bool = False,
                           load_balancing_strategy: Any = None) -> "ClusterNode":
        """The node to send a command of ``slot`` to: the primary, or a
        replica chosen by the load-balancing strategy."""
        if read_from_replicas is True and load_balancing_strategy is None:
            load_balancing_strategy = LoadBalancingStrategy.ROUND_ROBIN
        try:
            nodes = self.slots_cache[slot]
            if len(nodes) > 1 and load_balancing_strategy:
                index = self.read_load_balancer.get_server_index(
                    nodes[0].name, len(nodes), load_balancing_strategy)
                return nodes[index]
            return nodes[0]
        except (IndexError, TypeError, KeyError):
            raise SlotNotCoveredError(
                f'Slot "{slot}" not covered by the cluster. '
                f'"require_full_coverage={self.require_full_coverage}"'
            )

    def get_nodes_by_server_type(self, server_type: str) -> List["ClusterNode"]:
        """The known nodes of role ``server_type`` (``"primary"``/``"replica"``)."""
        return [node for node in self.nodes_cache.values() if node.server_type == server_type]

    async def initialize(self) -> None:
        """Read the topology (``CLUSTER SLOTS``) from the first startup node
        that answers with full coverage, and install it."""
        self.read_load_balancer.reset()
        tmp_nodes: Dict[str, ClusterNode] = {}
        tmp_slots: Dict[int, List[ClusterNode]] = {}
        disagreements: List[str] = []
        reachable = False
        fully_covered = False
        exception: Optional[BaseException] = None
        epoch = self._epoch
        async with self._initialize_lock:
            if self._epoch != epoch:
                # refreshed by another task while this one waited
                return
            for startup_node in tuple(self.startup_nodes.values()):
                try:
                    try:
                        self._event_dispatcher.dispatch(AfterAsyncClusterInstantiationEvent(
                            self.nodes_cache,
                            self.connection_kwargs.get("credential_provider", None)))
                        cluster_slots = await startup_node.execute_command("CLUSTER SLOTS")
                    except ResponseError:
                        raise RedisClusterException("Cluster mode is not enabled on this node")
                    reachable = True
                except Exception as e:
                    exception = e
                    continue
                # a one-node cluster may announce itself with an empty host
                if (len(cluster_slots) == 1 and not cluster_slots[0][2][0]
                        and len(self.startup_nodes) == 1):
                    cluster_slots[0][2][0] = startup_node.host
                for entry in cluster_slots:
                    for i in range(2, len(entry)):
                        entry[i] = [str_if_bytes(val) for val in entry[i]]
                    host = entry[2][0] or startup_node.host
                    host, port = self.remap_host_port(host, int(entry[2][1]))
                    nodes_for_slot = []
                    primary = tmp_nodes.get(get_node_name(host, port))
                    if not primary:
                        primary = ClusterNode(host, port, PRIMARY, **self.connection_kwargs)
                    tmp_nodes[primary.name] = primary
                    nodes_for_slot.append(primary)
                    for replica_info in entry[3:]:
                        host, port = self.remap_host_port(replica_info[0], replica_info[1])
                        replica = tmp_nodes.get(get_node_name(host, port))
                        if not replica:
                            replica = ClusterNode(host, port, REPLICA, **self.connection_kwargs)
                        tmp_nodes[replica.name] = replica
                        nodes_for_slot.append(replica)
                    for i in range(int(entry[0]), int(entry[1]) + 1):
                        if i not in tmp_slots:
                            tmp_slots[i] = nodes_for_slot
                        elif tmp_slots[i][0].name != primary.name:
                            disagreements.append(
                                f"{tmp_slots[i][0].name} vs {primary.name} on slot: {i}")
                            if len(disagreements) > 5:
                                raise RedisClusterException(
                                    "startup_nodes could not agree on a valid slots cache: "
                                    f"{', '.join(disagreements)}")
                fully_covered = len(tmp_slots) == REDIS_CLUSTER_HASH_SLOTS
                if fully_covered:
                    break
            if not reachable:
                raise RedisClusterException(
                    "Redis Cluster cannot be connected. Please provide at least "
                    f"one reachable node: {str(exception)}"
                ) from exception
            if not fully_covered and self.require_full_coverage:
                raise RedisClusterException(
                    "All slots are not covered after query all startup_nodes. "
                    f"{len(tmp_slots)} of {REDIS_CLUSTER_HASH_SLOTS} covered...")
            self.slots_cache = tmp_slots
            self.set_nodes(self.nodes_cache, tmp_nodes, remove_old=True)
            if self._dynamic_startup_nodes:
                self.set_nodes(self.startup_nodes, self.nodes_cache, remove_old=True)
            self.default_node = self.get_nodes_by_server_type(PRIMARY)[0]
            self._epoch += 1

    async def aclose(self, attr: str = "nodes_cache") -> None:
        """Close the connections of every node of ``attr`` (``nodes_cache``
        or ``startup_nodes``)."""
        self.default_node = None
        await asyncio.gather(*(asyncio.create_task(node.disconnect())
                               for node in getattr(self, attr).values()))

    def remap_host_port(self, host: str, port: int) -> Tuple[str, int]:
        """``address_remap((host, port))``, or the address unchanged."""
        if self.address_remap:
            return self.address_remap((host, port))
        return host, port


class ClusterPipeline(AbstractRedis, AbstractRedisCluster, AsyncRedisClusterCommands,
                      StackModuleAccessors):
    """Commands queued for one round trip per node: ``execute()`` sends each
    node its commands in one write, all nodes concurrently, then runs the
    redirected ones (MOVED/ASK/TRYAGAIN) again one by one.  The results come
    back in queue order; a command split across slots (``delete``,
    ``exists``, ``touch``, ``unlink``, ``mset_nonatomic`` of several keys)
    has one result per slot.  With ``transaction=True``: MULTI/EXEC on the
    primary of the commands' single slot (WATCH supported)."""

    def __init__(self, client: RedisCluster, transaction: Optional[bool] = None) -> None:
        self.cluster_client = client
        self._transaction = transaction
        self._execution_strategy: ExecutionStrategy = (
            PipelineStrategy(self) if not self._transaction else TransactionStrategy(self))

    @property
    def nodes_manager(self) -> "NodesManager":
        """The cluster client's nodes manager."""
        return self.cluster_client.nodes_manager

    def set_response_callback(self, command: str, callback: ResponseCallbackT) -> None:
        """Set a response callback on the cluster client."""
        self.cluster_client.set_response_callback(command, callback)

    async def initialize(self) -> "ClusterPipeline":
        """Initialize the client if needed and empty the queue."""
        await self._execution_strategy.initialize()
        return self

    async def __aenter__(self) -> "ClusterPipeline":
        return await self.initialize()

    async def __aexit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        await self.reset()

    def __await__(self) -> Generator[Any, None, "ClusterPipeline"]:
        return self.initialize().__await__()

    def __bool__(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self._execution_strategy)

    def execute_command(self, *args: Union[KeyT, EncodableT], **kwargs: Any) -> Any:
        """Queue a raw command (``target_nodes=`` as for RedisCluster); returns the pipeline."""
        return self._execution_strategy.execute_command(*args, **kwargs)

    async def execute(self, raise_on_error: bool = True,
                      allow_redirections: bool = True) -> List[Any]:
        """Run the queued commands; their results in order.  With
        ``raise_on_error`` the first error is raised (annotated with the
        command's position); ``allow_redirections`` runs redirected
        commands again individually."""
        try:
            return await self._execution_strategy.execute(raise_on_error, allow_redirections)
        finally:
            await self.reset()

    def _split_command_across_slots(self, command: str, *keys: KeyT) -> "ClusterPipeline":
        for slot_keys in self.cluster_client._partition_keys_by_slot(keys).values():
            self.execute_command(command, *slot_keys)
        return self

    async def reset(self) -> None:
        """Empty the queue (and end a transaction's WATCH)."""
        await self._execution_strategy.reset()

    def multi(self) -> None:
        """Start the MULTI block of a transaction (after WATCH)."""
        self._execution_strategy.multi()

    async def discard(self) -> None:
        """Drop the queued transaction."""
        await self._execution_strategy.discard()

    async def watch(self, *names: KeyT) -> Any:
        """WATCH ``names`` (transactions only)."""
        await self._execution_strategy.watch(*names)

    async def unwatch(self) -> Any:
        """UNWATCH (transactions only)."""
        await self._execution_strategy.unwatch()

    async def unlink(self, *names: KeyT) -> None:
        """Queue UNLINK of ``names``."""
        await self._execution_strategy.unlink(*names)

    def mset_nonatomic(self, mapping: Mapping[AnyKeyT, EncodableT]) -> "ClusterPipeline":
        """Queue one MSET per hash slot of ``mapping``'s keys."""
        return self._execution_strategy.mset_nonatomic(mapping)


for _blocked in PIPELINE_BLOCKED_COMMANDS:
    _blocked = _blocked.replace(" ", "_").lower()
    if _blocked != "mset_nonatomic":
        setattr(ClusterPipeline, _blocked, block_pipeline_command(_blocked))
del _blocked


class PipelineCommand:
    """One queued command: ``args``, ``kwargs``, its ``position`` in the
    queue and, once run, its ``result`` (an exception for an error)."""

    def __init__(self, position: int, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs
        self.position = position
        self.result: Union[Any, Exception] = None
        self.command_policies: Optional[CommandPolicies] = None

    def __repr__(self) -> str:
        return f"[{self.position}] {self.args} ({self.kwargs})"


class ExecutionStrategy:
    """How a ClusterPipeline queues and runs its commands (the interface of
    :class:`PipelineStrategy` and :class:`TransactionStrategy`)."""

    async def initialize(self) -> "ClusterPipeline":
        raise NotImplementedError

    def execute_command(self, *args: Union[KeyT, EncodableT], **kwargs: Any) -> Any:
        raise NotImplementedError

    async def execute(self, raise_on_error: bool = True,
                      allow_redirections: bool = True) -> List[Any]:
        raise NotImplementedError

    def mset_nonatomic(self, mapping: Mapping[AnyKeyT, EncodableT]) -> "ClusterPipeline":
        raise NotImplementedError

    async def reset(self) -> None:
        raise NotImplementedError

    def multi(self) -> None:
        raise NotImplementedError

    async def watch(self, *names: KeyT) -> Any:
        raise NotImplementedError

    async def unwatch(self) -> Any:
        raise NotImplementedError

    async def discard(self) -> None:
        raise NotImplementedError

    async def unlink(self, *names: KeyT) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class AbstractStrategy(ExecutionStrategy):
    """The command queue both strategies share."""

    def __init__(self, pipe: ClusterPipeline) -> None:
        self._pipe = pipe
        self._command_queue: List[PipelineCommand] = []

    async def initialize(self) -> "ClusterPipeline":
        if self._pipe.cluster_client._initialize:
            await self._pipe.cluster_client.initialize()
        self._command_queue = []
        return self._pipe

    def execute_command(self, *args: Union[KeyT, EncodableT], **kwargs: Any) -> Any:
        self._command_queue.append(PipelineCommand(len(self._command_queue), *args, **kwargs))
        return self._pipe

    def _annotate_exception(self, exception: Exception, number: int, command: Any) -> None:
        cmd = " ".join(map(safe_str, command))
        msg = (f"Command # {number} ({truncate_text(cmd)}) of pipeline "
               f"caused error: {exception.args[0]}")
        exception.args = (msg,) + exception.args[1:]

    def __len__(self) -> int:
        return len(self._command_queue)


class PipelineStrategy(AbstractStrategy):
    """The non-transactional pipeline: commands grouped per node."""

    def mset_nonatomic(self, mapping: Mapping[AnyKeyT, EncodableT]) -> "ClusterPipeline":
        encoder = self._pipe.cluster_client.encoder
        slots_pairs: Dict[int, List[Any]] = {}
        for pair in mapping.items():
            slots_pairs.setdefault(key_slot(encoder.encode(pair[0])), []).extend(pair)
        for pairs in slots_pairs.values():
            self.execute_command("MSET", *pairs)
        return self._pipe

    async def execute(self, raise_on_error: bool = True,
                      allow_redirections: bool = True) -> List[Any]:
        if not self._command_queue:
            return []
        client = self._pipe.cluster_client
        try:
            retry_attempts = client.retry.get_retries()
            while True:
                try:
                    if client._initialize:
                        await client.initialize()
                    return await self._execute(client, self._command_queue,
                                               raise_on_error=raise_on_error,
                                               allow_redirections=allow_redirections)
                except RedisCluster.ERRORS_ALLOW_RETRY as e:
                    if retry_attempts > 0:
                        # again, on a refreshed topology
                        retry_attempts -= 1
                        await client.aclose()
                        await asyncio.sleep(0.25)
                    else:
                        raise e
        finally:
            await self.reset()

    async def _execute(self, client: "RedisCluster", stack: List[PipelineCommand],
                       raise_on_error: bool = True,
                       allow_redirections: bool = True) -> List[Any]:
        # commands still to run: not run yet, failed, or (as redis-py) falsy
        todo = [cmd for cmd in stack if not cmd.result or isinstance(cmd.result, Exception)]
        nodes: Dict[str, Tuple[ClusterNode, List[PipelineCommand]]] = {}
        keyed = CommandPolicies(request_policy=RequestPolicy.DEFAULT_KEYED,
                                response_policy=ResponsePolicy.DEFAULT_KEYED)
        rfr, strategy = client.read_from_replicas, client.load_balancing_strategy
        get_node_from_slot = client.nodes_manager.get_node_from_slot
        for cmd in todo:
            passed_targets = cmd.kwargs.pop("target_nodes", None)
            slot = client._fast_slot(cmd.args) if passed_targets is None else None
            if slot is not None:
                # routed as the general path would, without awaiting
                policies = keyed
                read = cmd.args[0] in READ_COMMANDS
                target_nodes = [get_node_from_slot(slot, rfr and read,
                                                   strategy if read else None)]
            elif passed_targets and not client._is_node_flag(passed_targets):
                target_nodes = client._parse_target_nodes(passed_targets)
                policies = await client._policy_resolver.resolve(cmd.args[0].lower()) \
                    or CommandPolicies()
            else:
                policies = await client._command_policies(cmd.args, False, passed_targets)
                target_nodes = await client._determine_nodes(
                    *cmd.args, request_policy=policies.request_policy,
                    node_flag=passed_targets)
                if not target_nodes:
                    raise RedisClusterException(
                        f"No targets were found to execute {cmd.args} command on")
            cmd.command_policies = policies
            if len(target_nodes) > 1:
                raise RedisClusterException(f"Too many targets for command {cmd.args}")
            node = target_nodes[0]
            if node.name not in nodes:
                nodes[node.name] = (node, [])
            nodes[node.name][1].append(cmd)

        errors = await asyncio.gather(*(
            asyncio.create_task(node.execute_pipeline(cmds)) for node, cmds in nodes.values()))

        if any(errors):
            if allow_redirections:
                for cmd in todo:
                    if isinstance(cmd.result, (TryAgainError, MovedError, AskError)):
                        try:
                            respond = client._policies_callback_mapping[
                                cmd.command_policies.response_policy]
                            cmd.result = respond(
                                await client.execute_command(*cmd.args, **cmd.kwargs))
                        except Exception as e:
                            cmd.result = e
            if raise_on_error:
                for cmd in todo:
                    result = cmd.result
                    if isinstance(result, Exception):
                        command = " ".join(map(safe_str, cmd.args))
                        msg = (f"Command # {cmd.position + 1} ({truncate_text(command)}) "
                               f"of pipeline caused error: {result.args}")
                        result.args = (msg,) + result.args[1:]
                        raise result
            default = client.get_default_node()
            if default is not None:
                used = nodes.get(default.name)
                if used is not None:
                    for cmd in used[1]:
                        if type(cmd.result) in RedisCluster.ERRORS_ALLOW_RETRY:
                            client.replace_default_node()
                            break
        return [cmd.result for cmd in stack]

    async def reset(self) -> None:
        self._command_queue = []

    def multi(self) -> None:
        raise RedisClusterException(
            "method multi() is not supported outside of transactional context")

    async def watch(self, *names: KeyT) -> Any:
        raise RedisClusterException(
            "method watch() is not supported outside of transactional context")

    async def unwatch(self) -> Any:
        raise RedisClusterException(
            "method unwatch() is not supported outside of transactional context")

    async def discard(self) -> None:
        raise RedisClusterException(
            "method discard() is not supported outside of transactional context")

    async def unlink(self, *names: KeyT) -> Any:
        if len(names) != 1:
            raise RedisClusterException(
                "unlinking multiple keys is not implemented in pipeline command")
        return self.execute_command("UNLINK", names[0])


class TransactionStrategy(AbstractStrategy):
    """MULTI/EXEC on the primary of the commands' single slot; WATCH and
    UNWATCH run at once on the connection the transaction keeps."""

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
        self._transaction_node: Optional[ClusterNode] = None
        self._transaction_connection: Optional[Connection] = None
        self._executing = False
        self._retry = copy(self._pipe.cluster_client.retry)
        self._retry.update_supported_errors(
            RedisCluster.ERRORS_ALLOW_RETRY + self.SLOT_REDIRECT_ERRORS)

    def _get_client_and_connection_for_transaction(self) -> Tuple[ClusterNode, Connection]:
        """The slot's primary and the connection kept for this transaction."""
        if not self._pipeline_slots:
            raise RedisClusterException(
                "At least a command with a key is needed to identify a node")
        node = self._pipe.cluster_client.nodes_manager.get_node_from_slot(
            list(self._pipeline_slots)[0], False)
        self._transaction_node = node
        if not self._transaction_connection:
            self._transaction_connection = node.acquire_connection()
        return self._transaction_node, self._transaction_connection

    def execute_command(self, *args: Union[KeyT, EncodableT], **kwargs: Any) -> Any:
        """Queue a command (its slot is found at execute time); WATCH and
        UNWATCH before MULTI return an awaitable that runs them at once."""
        if (self._watching or args[0] in self.IMMEDIATE_EXECUTE_COMMANDS) \
                and not self._explicit_transaction:
            return self._immediate(args, kwargs)
        return super().execute_command(*args, **kwargs)

    async def _immediate(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        client = self._pipe.cluster_client
        if client._initialize:
            await client.initialize()
        slot = None
        if args[0] not in self.NO_SLOTS_COMMANDS:
            slot = await client._determine_slot(*args)
        if args[0] == "WATCH":
            self._validate_watch()
        if slot is not None:
            if self._pipeline_slots and slot not in self._pipeline_slots:
                raise CrossSlotTransactionError(
                    "Cannot watch or send commands on different slots")
            self._pipeline_slots.add(slot)
        elif args[0] not in self.NO_SLOTS_COMMANDS:
            raise RedisClusterException(
                f"Cannot identify slot number for command: {args[0]},"
                "it cannot be triggered in a transaction")
        return await self._immediate_execute_command(*args, **kwargs)

    def _validate_watch(self) -> None:
        if self._explicit_transaction:
            raise RedisError("Cannot issue a WATCH after a MULTI")
        self._watching = True

    async def _immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        return await self._retry.call_with_retry(
            lambda: self._get_connection_and_send_command(*args, **options),
            self._reinitialize_on_error,
            with_failure_count=True,
        )

    async def _get_connection_and_send_command(self, *args: Any, **options: Any) -> Any:
        node, connection = self._get_client_and_connection_for_transaction()
        if not self._watching:
            await node.disconnect_if_needed(connection)
        try:
            return await self._send_command_parse_response(connection, node, args[0],
                                                           *args, **options)
        except Exception as e:
            e.connection = connection
            raise

    async def _send_command_parse_response(self, connection: Connection, redis_node: ClusterNode,
                                           command_name: Any, *args: Any,
                                           **options: Any) -> Any:
        await connection.send_command(*args)
        output = await redis_node.parse_response(connection, command_name, **options)
        if command_name in self.UNWATCH_COMMANDS:
            self._watching = False
        return output

    async def _reinitialize_on_error(self, error: Exception, failure_count: int) -> None:
        if self._watching and type(error) in self.SLOT_REDIRECT_ERRORS and self._executing:
            raise WatchError("Slot rebalancing occurred while watching keys")
        if type(error) in self.SLOT_REDIRECT_ERRORS or type(error) in self.CONNECTION_ERRORS:
            if self._transaction_connection and self._transaction_node:
                await self._transaction_connection.disconnect()
                self._transaction_node.release(self._transaction_connection)
                self._transaction_connection = None
            client = self._pipe.cluster_client
            client.reinitialize_counter += 1
            if client.reinitialize_steps and \
                    client.reinitialize_counter % client.reinitialize_steps == 0:
                await client.nodes_manager.initialize()
                client.reinitialize_counter = 0
            elif isinstance(error, (AskError, MovedError)):
                client.nodes_manager.move_slot(error)
        self._executing = False

    def _raise_first_error(self, responses: List[Any], stack: List[PipelineCommand]) -> None:
        for r, cmd in zip(responses, stack):
            if isinstance(r, Exception):
                self._annotate_exception(r, cmd.position + 1, cmd.args)
                raise r

    def mset_nonatomic(self, mapping: Mapping[AnyKeyT, EncodableT]) -> "ClusterPipeline":
        raise NotImplementedError("Method is not supported in transactional context.")

    async def execute(self, raise_on_error: bool = True,
                      allow_redirections: bool = True) -> List[Any]:
        stack = self._command_queue
        if not stack and (not self._watching or not self._pipeline_slots):
            return []
        client = self._pipe.cluster_client
        if client._initialize:
            await client.initialize()
        for cmd in stack:
            if cmd.args[0] not in self.NO_SLOTS_COMMANDS:
                self._pipeline_slots.add(await client._determine_slot(*cmd.args))
        return await self._retry.call_with_retry(
            lambda: self._execute_transaction(stack, raise_on_error),
            self._reinitialize_on_error,
            with_failure_count=True,
        )

    async def _execute_transaction(self, stack: List[PipelineCommand],
                                   raise_on_error: bool) -> List[Any]:
        if len(self._pipeline_slots) > 1:
            raise CrossSlotTransactionError(
                "All keys involved in a cluster transaction must map to the same slot")
        self._executing = True
        node, connection = self._get_client_and_connection_for_transaction()
        if not self._watching:
            await node.disconnect_if_needed(connection)
        commands = [c.args for c in chain([PipelineCommand(0, "MULTI")], stack,
                                          [PipelineCommand(0, "EXEC")])
                    if EMPTY_RESPONSE not in c.kwargs]
        await connection.send_packed_command(connection.pack_commands(commands))
        errors: List[Any] = []
        # every reply is read, errors or not, so the connection stays in step
        try:
            await node.parse_response(connection, "MULTI")
        except ResponseError as e:
            self._annotate_exception(e, 0, "MULTI")
            errors.append(e)
        except self.CONNECTION_ERRORS as e:
            self._annotate_exception(e, 0, "MULTI")
            e.connection = connection
            raise
        for i, command in enumerate(self._command_queue):
            if EMPTY_RESPONSE in command.kwargs:
                errors.append((i, command.kwargs[EMPTY_RESPONSE]))
                continue
            try:
                await node.parse_response(connection, "_")
            except self.SLOT_REDIRECT_ERRORS as e:
                self._annotate_exception(e, i + 1, command.args)
                errors.append(e)
            except self.CONNECTION_ERRORS as e:
                self._annotate_exception(e, i + 1, command.args)
                e.connection = connection
                raise
            except ResponseError as e:
                self._annotate_exception(e, i + 1, command.args)
                errors.append(e)
        try:
            response = await node.parse_response(connection, "EXEC")
        except ExecAbortError:
            if errors:
                raise errors[0]
            raise
        self._executing = False
        self._watching = False
        if response is None:
            raise WatchError("Watched variable changed.")
        for i, e in errors:
            response.insert(i, e)
        if len(response) != len(self._command_queue):
            raise InvalidPipelineStack(
                "Unexpected response length for cluster pipeline EXEC."
                " Command stack was {} but response had length {}".format(
                    [c.args[0] for c in self._command_queue], len(response)))
        if raise_on_error or len(errors) > 0:
            self._raise_first_error(response, self._command_queue)
        callbacks = self._pipe.cluster_client.response_callbacks
        data = []
        for r, cmd in zip(response, self._command_queue):
            if not isinstance(r, Exception):
                name = cmd.args[0]
                if name in callbacks:
                    options = _callback_options(cmd.kwargs)
                    r = callbacks[name](r, **options) if options else callbacks[name](r)
                    if isinstance(r, _AWAITABLE_RESULTS):
                        r = await r
            data.append(r)
        return data

    async def reset(self) -> None:
        self._command_queue = []
        if self._transaction_connection:
            try:
                if self._watching:
                    await self._transaction_connection.send_command("UNWATCH")
                    await self._transaction_connection.read_response()
                self._transaction_node.release(self._transaction_connection)
                self._transaction_connection = None
            except self.CONNECTION_ERRORS:
                if self._transaction_connection and self._transaction_node:
                    await self._transaction_connection.disconnect()
                    self._transaction_node.release(self._transaction_connection)
                    self._transaction_connection = None
        self._transaction_node = None
        self._watching = False
        self._explicit_transaction = False
        self._pipeline_slots = set()
        self._executing = False

    def multi(self) -> None:
        if self._explicit_transaction:
            raise RedisError("Cannot issue nested calls to MULTI")
        if self._command_queue:
            raise RedisError("Commands without an initial WATCH have already been issued")
        self._explicit_transaction = True

    async def watch(self, *names: KeyT) -> Any:
        if self._explicit_transaction:
            raise RedisError("Cannot issue a WATCH after a MULTI")
        return await self.execute_command("WATCH", *names)

    async def unwatch(self) -> Any:
        if self._watching:
            return await self.execute_command("UNWATCH")
        return True

    async def discard(self) -> None:
        await self.reset()

    async def unlink(self, *names: KeyT) -> Any:
        return self.execute_command("UNLINK", *names)
