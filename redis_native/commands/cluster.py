"""The command mixins of RedisCluster, as ``redis.commands.cluster``.

``RedisClusterCommands`` is the standalone command set with the cluster's
adjustments: multi-key commands split by hash slot (``mget_nonatomic``,
``mset_nonatomic``, ``delete``/``exists``/``touch``/``unlink`` across slots),
``CLUSTER *`` commands aimed at nodes (``target_nodes``), commands that make no
sense in a cluster (``SWAPDB``, ``REPLICAOF``) refused, and ``scan_iter``
walking every primary.  Routing itself (which node runs a command, how the
replies of several nodes combine) is RedisCluster's (redis_native/cluster.py).

Commands split by slot run as one pipeline per node (redis_native's own
``Pipeline`` on that node's pool: one write and one read per node), in slot
order; a slot whose command is redirected (MOVED/ASK during a resharding) or
whose node fails is then run on its own through ``execute_command``, which
follows the redirection or the new topology.
"""

from __future__ import annotations
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Literal,
    Mapping,
    NoReturn,
    Optional,
    Sequence,
    Union,
)

from .. import _native
from ..crc import key_slot
from ..exceptions import (
    AskError,
    ClusterDownError,
    ConnectionError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TimeoutError,
    TryAgainError,
)
from ..typing import (
    AnyKeyT,
    ClusterCommandsProtocol,
    EncodableT,
    KeysT,
    KeyT,
    PatternT,
    ResponseT,
)
from ..utils import deprecated_function
from .core import (
    ACLCommands,
    DataAccessCommands,
    FunctionCommands,
    HotkeysMetricsTypes,
    ManagementCommands,
    ModuleCommands,
    PubSubCommands,
    ScriptCommands,
)
from .helpers import list_or_args

if TYPE_CHECKING:  # pragma: no cover
    TargetNodesT = Any

__all__ = ["READ_COMMANDS", "ClusterMultiKeyCommands", "ClusterManagementCommands",
           "ClusterDataAccessCommands", "RedisClusterCommands", "AsyncClusterMultiKeyCommands",
           "AsyncClusterManagementCommands", "AsyncClusterDataAccessCommands",
           "AsyncRedisClusterCommands"]

#: Commands that only read: with ``read_from_replicas`` or a
#: ``load_balancing_strategy`` they may be served by a replica.  The same set
#: as redis-py 7.4.1 (not every read command of Redis is in it).
READ_COMMANDS = frozenset([
    # bits
    "BITCOUNT", "BITFIELD_RO", "BITPOS",
    # scripting
    "EVAL_RO", "EVALSHA_RO", "FCALL_RO",
    # keys
    "DBSIZE", "DIGEST", "DUMP", "EXISTS", "EXPIRETIME", "PEXPIRETIME", "KEYS", "SCAN",
    "PTTL", "RANDOMKEY", "TTL", "TYPE",
    # strings
    "GET", "GETBIT", "GETRANGE", "MGET", "STRLEN", "LCS",
    # geo
    "GEODIST", "GEOHASH", "GEOPOS", "GEOSEARCH",
    # hashes
    "HEXISTS", "HGET", "HGETALL", "HKEYS", "HLEN", "HMGET", "HSTRLEN", "HVALS",
    "HRANDFIELD", "HEXPIRETIME", "HPEXPIRETIME", "HTTL", "HPTTL", "HSCAN",
    # lists
    "LINDEX", "LPOS", "LLEN", "LRANGE",
    # sets
    "SCARD", "SDIFF", "SINTER", "SINTERCARD", "SISMEMBER", "SMISMEMBER", "SMEMBERS",
    "SRANDMEMBER", "SUNION", "SSCAN",
    # sorted sets
    "ZCARD", "ZCOUNT", "ZDIFF", "ZINTER", "ZINTERCARD", "ZLEXCOUNT", "ZMSCORE",
    "ZRANDMEMBER", "ZRANGE", "ZRANGEBYLEX", "ZRANGEBYSCORE", "ZRANK", "ZREVRANGE",
    "ZREVRANGEBYLEX", "ZREVRANGEBYSCORE", "ZREVRANK", "ZSCAN", "ZSCORE", "ZUNION",
    # streams
    "XLEN", "XPENDING", "XRANGE", "XREAD", "XREVRANGE",
    # RedisJSON and RediSearch
    "JSON.ARRINDEX", "JSON.ARRLEN", "JSON.GET", "JSON.MGET", "JSON.OBJKEYS",
    "JSON.OBJLEN", "JSON.RESP", "JSON.STRLEN", "JSON.TYPE",
    "FT.EXPLAIN", "FT.INFO", "FT.PROFILE", "FT.SEARCH",
])

# errors after which one slot's command of a split command is run again on
# its own, through execute_command (which follows redirections and refreshes
# the topology)
_REROUTE_ERRORS = (AskError, TryAgainError, ClusterDownError, ConnectionError, TimeoutError)


# RedisCluster.pipeline and ClusterPipeline.execute/execute_command as
# redis_native defines them; filled by redis_native.cluster once the classes exist
_SLOT_PIPELINE_BUILTINS: Dict[str, Any] = {}


def _slot_pipeline_is_builtin(client: Any) -> bool:
    """A by-slot command may skip the cluster pipeline redis-py builds for it:
    neither the client's ``pipeline`` (class or instance attribute) nor the
    pipeline's ``execute``/``execute_command`` is replaced."""
    b = _SLOT_PIPELINE_BUILTINS
    if not b or getattr(type(client), "pipeline", None) is not b["pipeline"]:
        return False
    if "pipeline" in getattr(client, "__dict__", ()):
        return False
    pipe_cls = b["pipe_cls"]
    return (pipe_cls.__dict__.get("execute") is b["execute"]
            and pipe_cls.__dict__.get("execute_command") is b["execute_command"])


def _node_round_trip(redis_node: Any, command: str, arg_lists: List[Any]) -> List[Any]:
    """``command`` once per argument list, on one connection of
    ``redis_node`` in one write; the results in order, error replies as
    exception instances.  With redis_native's own classes (the stand-in rule)
    the C pipeline primitive does the round trip; otherwise a Pipeline of the
    node client, so overrides are honoured."""
    pool = redis_node.connection_pool
    connection = pool.get_connection()
    try:
        if not (_native._stands_in(connection) and _native._stands_in(redis_node)):
            pipe = redis_node.pipeline(transaction=False)
            for args in arg_lists:
                pipe.execute_command(command, *args)
            return pipe.execute(raise_on_error=False)
        replies = connection._execute_pipeline([((command, *args), {}) for args in arg_lists])
    finally:
        pool.release(connection)
    callback = redis_node.response_callbacks.get(command)
    if callback is None:
        return replies
    return [r if isinstance(r, Exception) else callback(r) for r in replies]


class ClusterMultiKeyCommands(ClusterCommandsProtocol):
    """Commands over keys of several slots, split into one command per slot."""

    def _partition_keys_by_slot(self, keys: Iterable[KeyT]) -> Dict[int, List[KeyT]]:
        """{slot: [keys of that slot]}, slots and keys in first-seen order."""
        partition = getattr(self, "_partition_keys", None)
        if partition is not None:
            return partition(list(keys))
        slots: Dict[int, List[KeyT]] = {}
        for key in keys:
            slots.setdefault(key_slot(self.encoder.encode(key)), []).append(key)
        return slots

    def _partition_pairs_by_slot(
        self, mapping: Mapping[AnyKeyT, EncodableT]
    ) -> Dict[int, List[EncodableT]]:
        """{slot: [key1, value1, key2, value2...]} for the pairs of ``mapping``."""
        slots: Dict[int, List[EncodableT]] = {}
        keyslot = getattr(self, "_keyslot", None)
        for key, value in mapping.items():
            slot = keyslot(key) if keyslot is not None else key_slot(self.encoder.encode(key))
            slots.setdefault(slot, []).extend((key, value))
        return slots

    def _execute_pipeline_by_slot(
        self, command: str, slots_to_args: Mapping[int, Iterable[EncodableT]]
    ) -> List[Any]:
        """Run ``command`` once per slot with that slot's arguments; the
        results in slot order.  The slots of one node go in one round trip."""
        read_from_replicas = self.read_from_replicas and command in READ_COMMANDS
        if not _slot_pipeline_is_builtin(self):
            # pipeline() or ClusterPipeline's execute/execute_command replaced
            # (a subclass, a tracer's patch): one cluster pipeline, as redis-py
            pipe = self.pipeline()
            for slot, slot_args in slots_to_args.items():
                pipe.execute_command(command, *slot_args, target_nodes=[
                    self.nodes_manager.get_node_from_slot(slot, read_from_replicas)])
            return pipe.execute()
        slots = list(slots_to_args.items())
        results: List[Any] = [None] * len(slots)
        by_node: Dict[str, Any] = {}
        table = self.nodes_manager.slots_cache
        for index, (slot, args) in enumerate(slots):
            nodes = None if read_from_replicas else table.get(slot)
            # the primary straight from the table; anything else (replicas,
            # an uncovered slot and its error) as redis-py chooses it
            node = nodes[0] if nodes else \
                self.nodes_manager.get_node_from_slot(slot, read_from_replicas)
            entry = by_node.get(node.name)
            if entry is None:
                entry = by_node[node.name] = (node, [], [])
            entry[1].append(index)
            entry[2].append(args)
        rerun: List[int] = []
        for node, indexes, arg_lists in by_node.values():
            try:
                replies = _node_round_trip(self.get_redis_connection(node), command, arg_lists)
            except (ConnectionError, TimeoutError):
                rerun.extend(indexes)
                continue
            for index, reply in zip(indexes, replies):
                if isinstance(reply, _REROUTE_ERRORS):
                    rerun.append(index)
                elif isinstance(reply, ResponseError):
                    raise reply
                else:
                    results[index] = reply
        for index in sorted(rerun):
            results[index] = self.execute_command(command, *slots[index][1])
        return results

    def _reorder_keys_by_command(
        self,
        keys: Iterable[KeyT],
        slots_to_args: Mapping[int, Iterable[EncodableT]],
        responses: Iterable[Any],
    ) -> List[Any]:
        """The per-slot replies put back in the order of ``keys``."""
        by_key = {}
        for slot_keys, reply in zip(slots_to_args.values(), responses):
            by_key.update(zip(slot_keys, reply))
        return [by_key[key] for key in keys]

    def mget_nonatomic(self, keys: KeysT, *args: KeyT) -> List[Optional[Any]]:
        """The values of ``keys`` (None for a missing key), in the order
        given, read with one MGET per hash slot: not atomic across slots.

        For more information, see https://redis.io/commands/mget
        """
        keys = list_or_args(keys, args)
        slots_to_keys = self._partition_keys_by_slot(keys)
        replies = self._execute_pipeline_by_slot("MGET", slots_to_keys)
        return self._reorder_keys_by_command(keys, slots_to_keys, replies)

    def mset_nonatomic(self, mapping: Mapping[AnyKeyT, EncodableT]) -> List[bool]:
        """Set every key of ``mapping`` to its value with one MSET per hash
        slot (not atomic across slots); the list of MSET replies.

        For more information, see https://redis.io/commands/mset
        """
        slots_to_pairs = self._partition_pairs_by_slot(mapping)
        return self._execute_pipeline_by_slot("MSET", slots_to_pairs)

    def _split_command_across_slots(self, command: str, *keys: KeyT) -> int:
        """Run ``command`` once per hash slot on that slot's keys; the sum of
        the replies."""
        slots_to_keys = self._partition_keys_by_slot(keys)
        return sum(self._execute_pipeline_by_slot(command, slots_to_keys))

    def exists(self, *keys: KeyT) -> ResponseT:
        """How many of ``keys`` exist, over the whole cluster (one EXISTS per slot).

        For more information, see https://redis.io/commands/exists
        """
        return self._split_command_across_slots("EXISTS", *keys)

    def delete(self, *keys: KeyT) -> ResponseT:
        """Delete ``keys`` across the cluster (one DEL per slot); how many were deleted.

        For more information, see https://redis.io/commands/del
        """
        return self._split_command_across_slots("DEL", *keys)

    def touch(self, *keys: KeyT) -> ResponseT:
        """Update the access time of ``keys`` (one TOUCH per slot); how many exist.

        For more information, see https://redis.io/commands/touch
        """
        return self._split_command_across_slots("TOUCH", *keys)

    def unlink(self, *keys: KeyT) -> ResponseT:
        """Delete ``keys`` in the background (one UNLINK per slot); how many were removed.

        For more information, see https://redis.io/commands/unlink
        """
        return self._split_command_across_slots("UNLINK", *keys)


class ClusterManagementCommands(ManagementCommands):
    """Server and CLUSTER commands with the cluster's node targeting."""

    def slaveof(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not available in cluster mode (raises RedisClusterException)."""
        raise RedisClusterException("SLAVEOF is not supported in cluster mode")

    def replicaof(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not available in cluster mode (raises RedisClusterException)."""
        raise RedisClusterException("REPLICAOF is not supported in cluster mode")

    def swapdb(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not available in cluster mode (raises RedisClusterException)."""
        raise RedisClusterException("SWAPDB is not supported in cluster mode")

    def cluster_myid(self, target_node: "TargetNodesT") -> ResponseT:
        """The node id of ``target_node``.

        For more information, see https://redis.io/commands/cluster-myid
        """
        return self.execute_command("CLUSTER MYID", target_nodes=target_node)

    def cluster_addslots(self, target_node: "TargetNodesT", *slots: EncodableT) -> ResponseT:
        """Assign ``slots`` to ``target_node``.

        For more information, see https://redis.io/commands/cluster-addslots
        """
        return self.execute_command("CLUSTER ADDSLOTS", *slots, target_nodes=target_node)

    def cluster_addslotsrange(self, target_node: "TargetNodesT",
                              *slots: EncodableT) -> ResponseT:
        """Assign the slot ranges ``start1, end1, start2, end2...`` to ``target_node``.

        For more information, see https://redis.io/commands/cluster-addslotsrange
        """
        return self.execute_command("CLUSTER ADDSLOTSRANGE", *slots, target_nodes=target_node)

    def cluster_countkeysinslot(self, slot_id: int) -> ResponseT:
        """How many keys slot ``slot_id`` holds (asked of the slot's node).

        For more information, see https://redis.io/commands/cluster-countkeysinslot
        """
        return self.execute_command("CLUSTER COUNTKEYSINSLOT", slot_id)

    def cluster_count_failure_report(self, node_id: str) -> ResponseT:
        """How many failure reports are active for ``node_id``.

        For more information, see https://redis.io/commands/cluster-count-failure-reports
        """
        return self.execute_command("CLUSTER COUNT-FAILURE-REPORTS", node_id)

    def cluster_delslots(self, *slots: EncodableT) -> List[bool]:
        """Unassign each of ``slots`` on the node that serves it; one result per slot.

        For more information, see https://redis.io/commands/cluster-delslots
        """
        return [self.execute_command("CLUSTER DELSLOTS", slot) for slot in slots]

    def cluster_delslotsrange(self, *slots: EncodableT) -> ResponseT:
        """Unassign the slot ranges ``start1, end1...``.

        For more information, see https://redis.io/commands/cluster-delslotsrange
        """
        return self.execute_command("CLUSTER DELSLOTSRANGE", *slots)

    def cluster_failover(self, target_node: "TargetNodesT",
                         option: Optional[str] = None) -> ResponseT:
        """Make the replica ``target_node`` take over from its primary
        (``option``: ``FORCE`` or ``TAKEOVER``).

        For more information, see https://redis.io/commands/cluster-failover
        """
        if not option:
            return self.execute_command("CLUSTER FAILOVER", target_nodes=target_node)
        if option.upper() not in ("FORCE", "TAKEOVER"):
            raise RedisError(f"Invalid option for CLUSTER FAILOVER command: {option}")
        return self.execute_command("CLUSTER FAILOVER", option, target_nodes=target_node)

    def cluster_info(self, target_nodes: Optional["TargetNodesT"] = None) -> ResponseT:
        """CLUSTER INFO of ``target_nodes`` (by default the default node).

        For more information, see https://redis.io/commands/cluster-info
        """
        return self.execute_command("CLUSTER INFO", target_nodes=target_nodes)

    def cluster_keyslot(self, key: str) -> ResponseT:
        """The hash slot of ``key``, as the server computes it.

        For more information, see https://redis.io/commands/cluster-keyslot
        """
        return self.execute_command("CLUSTER KEYSLOT", key)

    def cluster_meet(self, host: str, port: int,
                     target_nodes: Optional["TargetNodesT"] = None) -> ResponseT:
        """Make ``target_nodes`` handshake with the node at ``host:port``.

        For more information, see https://redis.io/commands/cluster-meet
        """
        return self.execute_command("CLUSTER MEET", host, port, target_nodes=target_nodes)

    def cluster_nodes(self) -> ResponseT:
        """The cluster configuration as the default node sees it.

        For more information, see https://redis.io/commands/cluster-nodes
        """
        return self.execute_command("CLUSTER NODES")

    def cluster_replicate(self, target_nodes: "TargetNodesT", node_id: str) -> ResponseT:
        """Make ``target_nodes`` replicas of the primary ``node_id``.

        For more information, see https://redis.io/commands/cluster-replicate
        """
        return self.execute_command("CLUSTER REPLICATE", node_id, target_nodes=target_nodes)

    def cluster_reset(self, soft: bool = True,
                      target_nodes: Optional["TargetNodesT"] = None) -> ResponseT:
        """Reset ``target_nodes`` (SOFT, or HARD when ``soft`` is false).

        For more information, see https://redis.io/commands/cluster-reset
        """
        return self.execute_command("CLUSTER RESET", b"SOFT" if soft else b"HARD",
                                    target_nodes=target_nodes)

    def cluster_save_config(self, target_nodes: Optional["TargetNodesT"] = None) -> ResponseT:
        """Make ``target_nodes`` write their cluster configuration to disk.

        For more information, see https://redis.io/commands/cluster-saveconfig
        """
        return self.execute_command("CLUSTER SAVECONFIG", target_nodes=target_nodes)

    def cluster_get_keys_in_slot(self, slot: int, num_keys: int) -> ResponseT:
        """Up to ``num_keys`` key names of slot ``slot``.

        For more information, see https://redis.io/commands/cluster-getkeysinslot
        """
        return self.execute_command("CLUSTER GETKEYSINSLOT", slot, num_keys)

    def cluster_set_config_epoch(self, epoch: int,
                                 target_nodes: Optional["TargetNodesT"] = None) -> ResponseT:
        """Set the configuration epoch of a new node.

        For more information, see https://redis.io/commands/cluster-set-config-epoch
        """
        return self.execute_command("CLUSTER SET-CONFIG-EPOCH", epoch, target_nodes=target_nodes)

    def cluster_setslot(self, target_node: "TargetNodesT", node_id: str, slot_id: int,
                        state: str) -> ResponseT:
        """``CLUSTER SETSLOT slot_id IMPORTING|MIGRATING|NODE node_id`` on
        ``target_node`` (``STABLE``: see :meth:`cluster_setslot_stable`).

        For more information, see https://redis.io/commands/cluster-setslot
        """
        if state.upper() in ("IMPORTING", "NODE", "MIGRATING"):
            return self.execute_command("CLUSTER SETSLOT", slot_id, state, node_id,
                                        target_nodes=target_node)
        if state.upper() == "STABLE":
            raise RedisError('For "stable" state please use cluster_setslot_stable')
        raise RedisError(f"Invalid slot state: {state}")

    def cluster_setslot_stable(self, slot_id: int) -> ResponseT:
        """Clear the importing/migrating state of ``slot_id`` on its node.

        For more information, see https://redis.io/commands/cluster-setslot
        """
        return self.execute_command("CLUSTER SETSLOT", slot_id, "STABLE")

    def cluster_replicas(self, node_id: str,
                         target_nodes: Optional["TargetNodesT"] = None) -> ResponseT:
        """The replicas of the primary ``node_id``.

        For more information, see https://redis.io/commands/cluster-replicas
        """
        return self.execute_command("CLUSTER REPLICAS", node_id, target_nodes=target_nodes)

    def cluster_slots(self, target_nodes: Optional["TargetNodesT"] = None) -> ResponseT:
        """The slot ranges and the nodes serving them.

        For more information, see https://redis.io/commands/cluster-slots
        """
        return self.execute_command("CLUSTER SLOTS", target_nodes=target_nodes)

    def cluster_shards(self, target_nodes: Any = None) -> ResponseT:
        """The shards of the cluster, their slots and nodes.

        For more information, see https://redis.io/commands/cluster-shards
        """
        return self.execute_command("CLUSTER SHARDS", target_nodes=target_nodes)

    def cluster_myshardid(self, target_nodes: Any = None) -> ResponseT:
        """The shard id of the node.

        For more information, see https://redis.io/commands/cluster-myshardid
        """
        return self.execute_command("CLUSTER MYSHARDID", target_nodes=target_nodes)

    def cluster_links(self, target_node: "TargetNodesT") -> ResponseT:
        """The cluster-bus links of ``target_node`` to its peers.

        For more information, see https://redis.io/commands/cluster-links
        """
        return self.execute_command("CLUSTER LINKS", target_nodes=target_node)

    def cluster_flushslots(self, target_nodes: Optional["TargetNodesT"] = None) -> None:
        """Deliberately not offered by the client (raises NotImplementedError)."""
        raise NotImplementedError(
            "CLUSTER FLUSHSLOTS is intentionally not implemented in the client.")

    def cluster_bumpepoch(self, target_nodes: Optional["TargetNodesT"] = None) -> None:
        """Deliberately not offered by the client (raises NotImplementedError)."""
        raise NotImplementedError(
            "CLUSTER BUMPEPOCH is intentionally not implemented in the client.")

    def readonly(self, target_nodes: Optional["TargetNodesT"] = None) -> ResponseT:
        """Let ``target_nodes`` serve reads on this connection (READONLY);
        sent to replicas or all nodes, it also makes the client read from
        replicas.

        For more information, see https://redis.io/commands/readonly
        """
        if target_nodes == "replicas" or target_nodes == "all":
            self.read_from_replicas = True
        return self.execute_command("READONLY", target_nodes=target_nodes)

    def readwrite(self, target_nodes: Optional["TargetNodesT"] = None) -> ResponseT:
        """Undo READONLY; the client reads from primaries again.

        For more information, see https://redis.io/commands/readwrite
        """
        self.read_from_replicas = False
        return self.execute_command("READWRITE", target_nodes=target_nodes)

    @deprecated_function(version="7.2.0", reason="Use client-side caching feature instead.")
    def client_tracking_on(
        self,
        clientid: Optional[int] = None,
        prefix: Sequence[KeyT] = [],
        bcast: bool = False,
        optin: bool = False,
        optout: bool = False,
        noloop: bool = False,
        target_nodes: Optional["TargetNodesT"] = "all",
    ) -> ResponseT:
        """CLIENT TRACKING ON, on ``target_nodes`` (all nodes by default).

        For more information, see https://redis.io/commands/client-tracking
        """
        return self.client_tracking(True, clientid, prefix, bcast, optin, optout, noloop,
                                    target_nodes=target_nodes)

    @deprecated_function(version="7.2.0", reason="Use client-side caching feature instead.")
    def client_tracking_off(
        self,
        clientid: Optional[int] = None,
        prefix: Sequence[KeyT] = [],
        bcast: bool = False,
        optin: bool = False,
        optout: bool = False,
        noloop: bool = False,
        target_nodes: Optional["TargetNodesT"] = "all",
    ) -> ResponseT:
        """CLIENT TRACKING OFF, on ``target_nodes`` (all nodes by default).

        For more information, see https://redis.io/commands/client-tracking
        """
        return self.client_tracking(False, clientid, prefix, bcast, optin, optout, noloop,
                                    target_nodes=target_nodes)

    _NO_HOTKEYS = ("HOTKEYS commands are not supported in cluster mode. "
                   "Please use the non-cluster client.")

    def hotkeys_start(
        self,
        metrics: List[HotkeysMetricsTypes],
        count: Optional[int] = None,
        duration: Optional[int] = None,
        sample_ratio: Optional[int] = None,
        slots: Optional[List[int]] = None,
        **kwargs: Any,
    ) -> Union[str, bytes]:
        """Not available in cluster mode (raises NotImplementedError), as in redis-py."""
        raise NotImplementedError(self._NO_HOTKEYS)

    def hotkeys_stop(self, **kwargs: Any) -> Union[str, bytes]:
        """Not available in cluster mode (raises NotImplementedError), as in redis-py."""
        raise NotImplementedError(self._NO_HOTKEYS)

    def hotkeys_reset(self, **kwargs: Any) -> Union[str, bytes]:
        """Not available in cluster mode (raises NotImplementedError), as in redis-py."""
        raise NotImplementedError(self._NO_HOTKEYS)

    def hotkeys_get(self, **kwargs: Any) -> List[Dict[Union[str, bytes], Any]]:
        """Not available in cluster mode (raises NotImplementedError), as in redis-py."""
        raise NotImplementedError(self._NO_HOTKEYS)


class ClusterDataAccessCommands(DataAccessCommands):
    """Data commands with the cluster's adjustments (STRALGO on strings goes
    to the default node; SCAN walks every primary)."""

    def stralgo(
        self,
        algo: Literal["LCS"],
        value1: KeyT,
        value2: KeyT,
        specific_argument: Union[Literal["strings"], Literal["keys"]] = "strings",
        len: bool = False,
        idx: bool = False,
        minmatchlen: Optional[int] = None,
        withmatchlen: bool = False,
        **kwargs: Any,
    ) -> ResponseT:
        """STRALGO LCS; on two strings (no keys) it runs on the default node.

        For more information, see https://redis.io/commands/stralgo
        """
        target_nodes = kwargs.pop("target_nodes", None)
        if specific_argument == "strings" and target_nodes is None:
            target_nodes = "default-node"
        kwargs["target_nodes"] = target_nodes
        return super().stralgo(algo, value1, value2, specific_argument, len, idx,
                               minmatchlen, withmatchlen, **kwargs)

    def scan_iter(
        self,
        match: Optional[PatternT] = None,
        count: Optional[int] = None,
        _type: Optional[str] = None,
        **kwargs: Any,
    ) -> Iterator:
        """Every key of the cluster (matching ``match``/``_type``): SCAN on all
        primaries, each node followed until its cursor returns to 0."""
        cursors, data = self.scan(match=match, count=count, _type=_type, **kwargs)
        yield from data
        cursors = {name: cursor for name, cursor in cursors.items() if cursor != 0}
        if not cursors:
            return
        nodes = {name: self.get_node(node_name=name) for name in cursors}
        kwargs.pop("target_nodes", None)
        while cursors:
            for name, cursor in cursors.items():
                cur, data = self.scan(cursor=cursor, match=match, count=count, _type=_type,
                                      target_nodes=nodes[name], **kwargs)
                yield from data
                cursors[name] = cur[name]
            cursors = {name: cursor for name, cursor in cursors.items() if cursor != 0}


class RedisClusterCommands(
    ClusterMultiKeyCommands,
    ClusterManagementCommands,
    ACLCommands,
    PubSubCommands,
    ClusterDataAccessCommands,
    ScriptCommands,
    FunctionCommands,
    ModuleCommands,
):
    """Every command method of RedisCluster.

    Keyed commands go to the node of their keys' hash slot; others to the
    default node unless redis-py routes them elsewhere (to all primaries, a
    random node...) or ``target_nodes`` names the nodes: a node flag
    (``RedisCluster.PRIMARIES``, ``REPLICAS``, ``ALL_NODES``, ``RANDOM``,
    ``DEFAULT_NODE``), a ClusterNode, a list of them or a dict whose values
    are ClusterNodes, e.g. ``rc.cluster_info(target_nodes=RedisCluster.ALL_NODES)``.
    """


# ------------------------------------------------------------------ asyncio
# redis_native.asyncio.cluster.RedisCluster mixes these in: the methods above
# return ``self.execute_command(...)`` (a coroutine there); the ones that do
# more are coroutines here, as in redis-py.
from typing import AsyncIterator  # noqa: E402

from .core import (  # noqa: E402
    AsyncACLCommands,
    AsyncDataAccessCommands,
    AsyncFunctionCommands,
    AsyncManagementCommands,
    AsyncModuleCommands,
    AsyncScriptCommands,
)


class AsyncClusterMultiKeyCommands(ClusterMultiKeyCommands):
    """Commands over keys of several slots for the asyncio cluster client:
    one command per slot, all sent through one cluster pipeline."""

    async def mget_nonatomic(self, keys: KeysT, *args: KeyT) -> List[Optional[Any]]:
        """The values of ``keys`` in the order given, read with one MGET per
        hash slot (not atomic across slots).

        For more information, see https://redis.io/commands/mget
        """
        keys = list_or_args(keys, args)
        slots_to_keys = self._partition_keys_by_slot(keys)
        replies = await self._execute_pipeline_by_slot("MGET", slots_to_keys)
        return self._reorder_keys_by_command(keys, slots_to_keys, replies)

    async def mset_nonatomic(self, mapping: Mapping[AnyKeyT, EncodableT]) -> List[bool]:
        """Set the pairs of ``mapping`` with one MSET per hash slot (not
        atomic across slots); the list of MSET replies.

        For more information, see https://redis.io/commands/mset
        """
        slots_to_pairs = self._partition_pairs_by_slot(mapping)
        return await self._execute_pipeline_by_slot("MSET", slots_to_pairs)

    async def _split_command_across_slots(self, command: str, *keys: KeyT) -> int:
        """``command`` once per hash slot on that slot's keys; the sum of the replies."""
        slots_to_keys = self._partition_keys_by_slot(keys)
        return sum(await self._execute_pipeline_by_slot(command, slots_to_keys))

    async def _execute_pipeline_by_slot(
        self, command: str, slots_to_args: Mapping[int, Iterable[EncodableT]]
    ) -> List[Any]:
        """``command`` once per slot, each aimed at its slot's node, in one
        cluster pipeline; the results in slot order."""
        if self._initialize:
            await self.initialize()
        read_from_replicas = self.read_from_replicas and command in READ_COMMANDS
        pipe = self.pipeline()
        for slot, slot_args in slots_to_args.items():
            node = self.nodes_manager.get_node_from_slot(slot, read_from_replicas)
            pipe.execute_command(command, *slot_args, target_nodes=[node])
        return await pipe.execute()


class AsyncClusterManagementCommands(ClusterManagementCommands, AsyncManagementCommands):
    """Server and CLUSTER commands of the asyncio cluster client."""

    async def cluster_delslots(self, *slots: EncodableT) -> List[bool]:
        """Unassign each of ``slots`` on the node serving it; one result per slot.

        For more information, see https://redis.io/commands/cluster-delslots
        """
        import asyncio

        return await asyncio.gather(*(
            asyncio.create_task(self.execute_command("CLUSTER DELSLOTS", slot))
            for slot in slots))

    @deprecated_function(version="7.2.0", reason="Use client-side caching feature instead.")
    async def client_tracking_on(
        self,
        clientid: Optional[int] = None,
        prefix: Sequence[KeyT] = [],
        bcast: bool = False,
        optin: bool = False,
        optout: bool = False,
        noloop: bool = False,
        target_nodes: Optional["TargetNodesT"] = "all",
    ) -> ResponseT:
        """CLIENT TRACKING ON, on ``target_nodes`` (all nodes by default).

        For more information, see https://redis.io/commands/client-tracking
        """
        return await self.client_tracking(True, clientid, prefix, bcast, optin, optout,
                                          noloop, target_nodes=target_nodes)

    @deprecated_function(version="7.2.0", reason="Use client-side caching feature instead.")
    async def client_tracking_off(
        self,
        clientid: Optional[int] = None,
        prefix: Sequence[KeyT] = [],
        bcast: bool = False,
        optin: bool = False,
        optout: bool = False,
        noloop: bool = False,
        target_nodes: Optional["TargetNodesT"] = "all",
    ) -> ResponseT:
        """CLIENT TRACKING OFF, on ``target_nodes`` (all nodes by default).

        For more information, see https://redis.io/commands/client-tracking
        """
        return await self.client_tracking(False, clientid, prefix, bcast, optin, optout,
                                          noloop, target_nodes=target_nodes)

    async def hotkeys_start(
        self,
        metrics: List[HotkeysMetricsTypes],
        count: Optional[int] = None,
        duration: Optional[int] = None,
        sample_ratio: Optional[int] = None,
        slots: Optional[List[int]] = None,
        **kwargs: Any,
    ) -> Union[str, bytes]:
        """Not available in cluster mode (raises NotImplementedError), as in redis-py."""
        raise NotImplementedError(self._NO_HOTKEYS)

    async def hotkeys_stop(self, **kwargs: Any) -> Union[str, bytes]:
        """Not available in cluster mode (raises NotImplementedError), as in redis-py."""
        raise NotImplementedError(self._NO_HOTKEYS)

    async def hotkeys_reset(self, **kwargs: Any) -> Union[str, bytes]:
        """Not available in cluster mode (raises NotImplementedError), as in redis-py."""
        raise NotImplementedError(self._NO_HOTKEYS)

    async def hotkeys_get(self, **kwargs: Any) -> List[Dict[Union[str, bytes], Any]]:
        """Not available in cluster mode (raises NotImplementedError), as in redis-py."""
        raise NotImplementedError(self._NO_HOTKEYS)


class AsyncClusterDataAccessCommands(ClusterDataAccessCommands, AsyncDataAccessCommands):
    """Data commands of the asyncio cluster client (``scan_iter`` walks
    every primary)."""

    async def scan_iter(
        self,
        match: Optional[PatternT] = None,
        count: Optional[int] = None,
        _type: Optional[str] = None,
        **kwargs: Any,
    ) -> AsyncIterator:
        """Every key of the cluster (matching ``match``/``_type``): SCAN on all
        primaries, each node followed until its cursor returns to 0."""
        cursors, data = await self.scan(match=match, count=count, _type=_type, **kwargs)
        for value in data:
            yield value
        cursors = {name: cursor for name, cursor in cursors.items() if cursor != 0}
        if not cursors:
            return
        nodes = {name: self.get_node(node_name=name) for name in cursors}
        kwargs.pop("target_nodes", None)
        while cursors:
            for name, cursor in cursors.items():
                cur, data = await self.scan(cursor=cursor, match=match, count=count,
                                            _type=_type, target_nodes=nodes[name], **kwargs)
                for value in data:
                    yield value
                cursors[name] = cur[name]
            cursors = {name: cursor for name, cursor in cursors.items() if cursor != 0}


class AsyncRedisClusterCommands(
    AsyncClusterMultiKeyCommands,
    AsyncClusterManagementCommands,
    AsyncACLCommands,
    AsyncClusterDataAccessCommands,
    AsyncScriptCommands,
    AsyncFunctionCommands,
    AsyncModuleCommands,
):
    """Every command method of the asyncio RedisCluster (each returns an
    awaitable); routing as in :class:`RedisClusterCommands`."""
