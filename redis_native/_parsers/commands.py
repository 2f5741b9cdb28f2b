"""Where the keys of a command are, for cluster routing (``redis._parsers.commands``).

:class:`CommandsParser` reads the server's ``COMMAND`` table once and answers
``get_keys(redis_conn, *args)`` from the key positions it lists; commands with
``movablekeys`` ask the server (``COMMAND GETKEYS``), pub/sub commands use
their fixed layout.  The request/response policy names of the routing tips
(``RequestPolicy``, ``ResponsePolicy``, ``CommandPolicies``) are defined here
too, as in redis-py.

RedisCluster's C router (src/cluster.c) does not call this parser for the
common commands: it is given the fixed key positions of the same ``COMMAND``
table once (``RedisCluster._key_specs``) and finds the keys itself.
"""

from __future__ import annotations
from enum import Enum
from typing import Any, Dict, List, Optional, Sequence

from ..exceptions import IncorrectPolicyType, RedisError, ResponseError
from ..utils import str_if_bytes

__all__ = ["RequestPolicy", "ResponsePolicy", "CommandPolicies", "PolicyRecords",
           "AbstractCommandsParser", "CommandsParser", "AsyncCommandsParser"]


class RequestPolicy(Enum):
    """Which nodes a command goes to (the ``request_policy`` routing tip)."""

    ALL_NODES = "all_nodes"
    ALL_SHARDS = "all_shards"
    ALL_REPLICAS = "all_replicas"
    MULTI_SHARD = "multi_shard"
    SPECIAL = "special"
    DEFAULT_KEYLESS = "default_keyless"
    DEFAULT_KEYED = "default_keyed"
    DEFAULT_NODE = "default_node"


class ResponsePolicy(Enum):
    """How the replies of several nodes combine (the ``response_policy`` tip)."""

    ONE_SUCCEEDED = "one_succeeded"
    ALL_SUCCEEDED = "all_succeeded"
    AGG_LOGICAL_AND = "agg_logical_and"
    AGG_LOGICAL_OR = "agg_logical_or"
    AGG_MIN = "agg_min"
    AGG_MAX = "agg_max"
    AGG_SUM = "agg_sum"
    SPECIAL = "special"
    DEFAULT_KEYLESS = "default_keyless"
    DEFAULT_KEYED = "default_keyed"


class CommandPolicies:
    """A command's request and response policies."""

    def __init__(
        self,
        request_policy: RequestPolicy = RequestPolicy.DEFAULT_KEYLESS,
        response_policy: ResponsePolicy = ResponsePolicy.DEFAULT_KEYLESS,
    ):
        self.request_policy = request_policy
        self.response_policy = response_policy


#: module name ("core" for Redis' own commands) -> command name -> policies
PolicyRecords = dict[str, dict[str, CommandPolicies]]

_PUBSUB_KEYED_SUBCOMMANDS = ("CHANNELS", "NUMSUB", "SHARDCHANNELS", "SHARDNUMSUB")


class AbstractCommandsParser:
    """What the sync and async parsers share."""

    def _get_pubsub_keys(self, *args: Any) -> Optional[List[Any]]:
        """The channels of a pub/sub command, which COMMAND does not describe
        as keys: ``PUBSUB CHANNELS|NUMSUB|SHARDCHANNELS|SHARDNUMSUB`` (the
        arguments after the subcommand), ``(P)(UN)SUBSCRIBE`` (every argument)
        and ``(S)PUBLISH`` (the channel)."""
        if len(args) < 2:
            return None
        words = [str_if_bytes(a) for a in args]
        name = words[0].upper()
        if name == "PUBSUB":
            return words[2:] if words[1].upper() in _PUBSUB_KEYED_SUBCOMMANDS else None
        if name in ("SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE"):
            return list(words[1:])
        if name in ("PUBLISH", "SPUBLISH"):
            return [words[1]]
        return None

    def _table_keys(self, name: str, command: Dict[str, Any],
                    args: Sequence[Any]) -> Optional[List[Any]]:
        """The keys of ``args`` for a command without movable keys, from its
        (or its keyed subcommand's) positions in the COMMAND table; None when
        it has none (sync and asyncio parsers)."""
        if "pubsub" in command["flags"] or command["name"] == "pubsub":
            return self._get_pubsub_keys(*args)
        if (command["step_count"] == 0 and command["first_key_pos"] == 0
                and command["last_key_pos"] == 0):
            # no keys of its own; one of its subcommands may have some
            keyed_sub = None
            if "subcommands" in command:
                wanted = f"{name}|{args[1].lower()}"
                for sub in command["subcommands"]:
                    if str_if_bytes(sub[0]) == wanted:
                        parsed = self.parse_subcommand(sub)
                        if parsed["first_key_pos"] > 0:
                            keyed_sub = parsed
            if keyed_sub is None:
                return None
            command = keyed_sub
        last = command["last_key_pos"]
        if last < 0:
            last = len(args) - abs(last)
        return list(args[command["first_key_pos"]: last + 1: command["step_count"]])

    def parse_subcommand(self, command: Any, **options: Any) -> Dict[str, Any]:
        """One entry of a command's ``subcommands`` list as a dict."""
        entry = {
            "name": str_if_bytes(command[0]),
            "arity": int(command[1]),
            "flags": [str_if_bytes(f) for f in command[2]],
            "first_key_pos": command[3],
            "last_key_pos": command[4],
            "step_count": command[5],
        }
        if len(command) > 7:
            entry["tips"] = command[7]
            entry["key_specifications"] = command[8]
            entry["subcommands"] = command[9]
        return entry


class CommandsParser(AbstractCommandsParser):
    """The keys of a command, from the server's COMMAND table.

    ``commands`` maps each lower-case command name to the dict redis-py's
    COMMAND callback builds (``flags``, ``first_key_pos``, ``last_key_pos``,
    ``step_count``, ``subcommands``...).
    """

    def __init__(self, redis_connection: Any) -> None:
        self.commands: Dict[str, Any] = {}
        self.redis_connection = redis_connection
        self.initialize(self.redis_connection)

    def initialize(self, r: Any) -> None:
        """(Re)load the command table with ``r.command()``."""
        table = r.command()
        self.commands = {name.lower() if any(c.isupper() for c in name) else name: info
                         for name, info in table.items()}

    def get_keys(self, redis_conn: Any, *args: Any) -> Optional[List[Any]]:
        """The keys among ``args`` (``args[0]`` is the command name), or None
        when the command has none.  Unknown commands reload the table once and
        then raise :class:`RedisError`."""
        if len(args) < 2:
            return None
        name = args[0].lower()
        if name not in self.commands:
            # "MEMORY USAGE" style names: the table knows the first word
            words = name.split()
            name = words[0]
            if name in self.commands:
                args = words + list(args[1:])
            else:
                self.initialize(redis_conn)
                if name not in self.commands:
                    raise RedisError(f"{name.upper()} command doesn't exist in Redis commands")

        command = self.commands.get(name)
        if "movablekeys" in command["flags"]:
            return self._get_moveable_keys(redis_conn, *args)
        return self._table_keys(name, command, args)

    def _get_moveable_keys(self, redis_conn: Any, *args: Any) -> Optional[List[Any]]:
        """Ask the server where the keys are (``COMMAND GETKEYS``)."""
        pieces = args[0].split() + list(args[1:])
        try:
            return redis_conn.execute_command("COMMAND GETKEYS", *pieces)
        except ResponseError as e:
            text = str(e)
            if "Invalid arguments" in text or "The command has no key arguments" in text:
                return None
            raise

    def _is_keyless_command(self, command_name: str,
                            subcommand_name: Optional[str] = None) -> bool:
        """Whether a command (or one of its subcommands) takes no key: its
        first key position is 0 or less.  ValueError for unknown names."""
        if subcommand_name:
            for sub in self.commands.get(command_name)["subcommands"]:
                if str_if_bytes(sub[0]) == subcommand_name:
                    return self.parse_subcommand(sub)["first_key_pos"] <= 0
            raise ValueError(
                f"Subcommand {subcommand_name} not found in command {command_name}")
        details = self.commands.get(command_name, None)
        if details is None:
            raise ValueError(f"Command {command_name} not found in commands")
        return details["first_key_pos"] <= 0

    def get_command_policies(self) -> PolicyRecords:
        """The request/response policies of every command and subcommand:
        the defaults for keyed or keyless commands, overridden by the
        ``request_policy:``/``response_policy:`` tips the server lists."""
        records: PolicyRecords = {}

        def apply_tips(data: Any, module: str, command: str) -> None:
            if isinstance(data, (str, bytes)):
                tip = str_if_bytes(data)
                kind, _, value = tip.partition(":")
                if kind == "request_policy":
                    try:
                        records[module][command].request_policy = RequestPolicy(value)
                    except ValueError:
                        raise IncorrectPolicyType(f"Incorrect request policy type: {value}")
                elif kind == "response_policy":
                    try:
                        records[module][command].response_policy = ResponsePolicy(value)
                    except ValueError:
                        raise IncorrectPolicyType(f"Incorrect response policy type: {value}")
            elif isinstance(data, list):
                for item in data:
                    apply_tips(item, module, command)
            elif isinstance(data, dict):
                for item in data.values():
                    apply_tips(item, module, command)

        def defaults(keyless: bool) -> CommandPolicies:
            if keyless:
                return CommandPolicies(RequestPolicy.DEFAULT_KEYLESS,
                                       ResponsePolicy.DEFAULT_KEYLESS)
            return CommandPolicies(RequestPolicy.DEFAULT_KEYED, ResponsePolicy.DEFAULT_KEYED)

        for command, details in self.commands.items():
            parts = command.split(".")
            module, short = (parts[0], parts[1]) if len(parts) > 1 else ("core", parts[0])
            records.setdefault(module, {})[short] = defaults(self._is_keyless_command(command))
            if details.get("tips"):
                apply_tips(details["tips"], module, short)
            for sub in details.get("subcommands") or ():
                sub_name = str_if_bytes(sub[0])
                keyless = self._is_keyless_command(command, sub_name)
                sub_name = sub_name.replace("|", " ")
                records[module][sub_name] = defaults(keyless)
                for detail in sub[1:]:
                    apply_tips(detail, module, sub_name)
        return records


class AsyncCommandsParser(AbstractCommandsParser):
    """The keys of a command for the asyncio cluster client: the same rules
    as :class:`CommandsParser`, with the ``COMMAND`` table (and ``COMMAND
    GETKEYS`` for movable keys) read through a cluster node
    (``await node.execute_command(...)``)."""

    def __init__(self) -> None:
        self.commands: Dict[str, Any] = {}
        self.node: Any = None

    async def initialize(self, node: Any = None) -> None:
        """(Re)load the command table from ``node`` (default: the last one)."""
        if node is not None:
            self.node = node
        table = await self.node.execute_command("COMMAND")
        self.commands = {name.lower(): info for name, info in table.items()}

    async def get_keys(self, *args: Any) -> Optional[List[Any]]:
        """The keys among ``args`` (``args[0]`` is the command name), or None."""
        if len(args) < 2:
            return None
        name = args[0].lower()
        if name not in self.commands:
            words = name.split()
            name = words[0]
            if name in self.commands:
                args = words + list(args[1:])
            else:
                await self.initialize()
                if name not in self.commands:
                    raise RedisError(f"{name.upper()} command doesn't exist in Redis commands")
        command = self.commands.get(name)
        if "movablekeys" in command["flags"]:
            return await self._get_moveable_keys(*args)
        return self._table_keys(name, command, args)

    async def _get_moveable_keys(self, *args: Any) -> Optional[List[Any]]:
        """Ask the server where the keys are (``COMMAND GETKEYS``)."""
        pieces = args[0].split() + list(args[1:])
        try:
            return await self.node.execute_command("COMMAND GETKEYS", *pieces)
        except ResponseError as e:
            text = str(e)
            if "Invalid arguments" in text or "The command has no key arguments" in text:
                return None
            raise
