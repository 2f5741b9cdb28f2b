"""Server and connection management commands (redis-py's
``ManagementCommands``), plus the small ``ModuleCommands`` and
``ClusterCommands`` mixins."""

from __future__ import annotations

from enum import Enum
from typing import Any, List, Literal, Optional, Sequence, Union

from ..exceptions import ConnectionError, DataError, RedisError
from ._types import EncodableT, KeysT, KeyT, PatternT, ResponseT
from .helpers import NEVER_DECODE, list_or_args

__all__ = [
    "HotkeysMetricsTypes",
    "ManagementCommands",
    "ModuleCommands",
    "ClusterCommands",
    "AsyncManagementCommands",
    "AsyncModuleCommands",
]


def _not_implemented(command: str, page: str) -> NotImplementedError:
    return NotImplementedError(
        f"{command} is intentionally not implemented in the client.\n\n"
        f"For more information, see https://redis.io/commands/{page}"
    )


class HotkeysMetricsTypes(Enum):
    """Metrics HOTKEYS START can track."""

    CPU = "CPU"
    NET = "NET"


class ManagementCommands:
    """Commands about the server and the current connection."""

    # ------------------------------------------------------------------
    # connection
    # ------------------------------------------------------------------

    def auth(self, password: str, username: Optional[str] = None, **kwargs: Any) -> ResponseT:
        """Authenticate the connection as ``username`` (the ``default`` user
        when omitted) with ``password``.

        For more information, see https://redis.io/commands/auth
        """
        if username is None:
            return self.execute_command("AUTH", password, **kwargs)
        return self.execute_command("AUTH", username, password, **kwargs)

    def client_kill(self, address: str, **kwargs: Any) -> ResponseT:
        """Close the connection of the client at ``address`` (``ip:port``).

        For more information, see https://redis.io/commands/client-kill
        """
        return self.execute_command("CLIENT KILL", address, **kwargs)

    def client_kill_filter(
        self,
        _id: Optional[str] = None,
        _type: Optional[str] = None,
        addr: Optional[str] = None,
        skipme: Optional[bool] = None,
        laddr: Optional[bool] = None,
        user: Optional[str] = None,
        maxage: Optional[int] = None,
        **kwargs: Any,
    ) -> ResponseT:
        """Close the connections matching all the given filters: client id
        ``_id``, ``_type`` (normal, master, slave, pubsub), ``addr`` /
        ``laddr`` (``ip:port``), ``user``, ``maxage`` (seconds); ``skipme``
        says whether to spare the calling connection (server default: yes).
        Returns the number of closed connections.

        For more information, see https://redis.io/commands/client-kill
        """
        args: List[EncodableT] = []
        if _type is not None:
            client_types = ("normal", "master", "slave", "pubsub")
            if str(_type).lower() not in client_types:
                raise DataError(f"CLIENT KILL type must be one of {client_types!r}")
            args += (b"TYPE", _type)
        if skipme is not None:
            if not isinstance(skipme, bool):
                raise DataError("CLIENT KILL skipme must be a bool")
            args += (b"SKIPME", b"YES" if skipme else b"NO")
        for word, value in ((b"ID", _id), (b"ADDR", addr), (b"LADDR", laddr), (b"USER", user), (b"MAXAGE", maxage)):
            if value is not None:
                args += (word, value)
        if not args:
            raise DataError(
                "CLIENT KILL <filter> <value> ... ... <filter> "
                "<value> must specify at least one filter"
            )
        return self.execute_command("CLIENT KILL", *args, **kwargs)

    def client_info(self, **kwargs: Any) -> ResponseT:
        """Return a dict describing the current connection.

        For more information, see https://redis.io/commands/client-info
        """
        return self.execute_command("CLIENT INFO", **kwargs)

    def client_list(
        self, _type: Optional[str] = None, client_id: List[EncodableT] = [], **kwargs: Any
    ) -> ResponseT:
        """Return one dict per connected client, optionally only those of
        ``_type`` (normal, master, replica, pubsub) or with an id in the
        list ``client_id``.

        For more information, see https://redis.io/commands/client-list
        """
        args: List[EncodableT] = []
        if _type is not None:
            client_types = ("normal", "master", "replica", "pubsub")
            if str(_type).lower() not in client_types:
                raise DataError(f"CLIENT LIST _type must be one of {client_types!r}")
            args += (b"TYPE", _type)
        if not isinstance(client_id, list):
            raise DataError("client_id must be a list")
        if client_id:
            args.append(b"ID")
            args += client_id
        return self.execute_command("CLIENT LIST", *args, **kwargs)

    def client_getname(self, **kwargs: Any) -> ResponseT:
        """Return the name of the current connection (None if unset).

        For more information, see https://redis.io/commands/client-getname
        """
        return self.execute_command("CLIENT GETNAME", **kwargs)

    def client_getredir(self, **kwargs: Any) -> ResponseT:
        """Return the id of the client receiving this connection's tracking
        invalidations (-1 when tracking is off, 0 when not redirected).

        For more information, see https://redis.io/commands/client-getredir
        """
        return self.execute_command("CLIENT GETREDIR", **kwargs)

    def client_reply(
        self, reply: Union[Literal["ON"], Literal["OFF"], Literal["SKIP"]], **kwargs: Any
    ) -> ResponseT:
        """Switch server replies ``ON``, ``OFF``, or ``SKIP`` the next one.
        With OFF/SKIP the client waits for a reply that never comes: use a
        socket timeout and expect ``TimeoutError``.

        For more information, see https://redis.io/commands/client-reply
        """
        replies = ["ON", "OFF", "SKIP"]
        if reply not in replies:
            raise DataError(f"CLIENT REPLY must be one of {replies!r}")
        return self.execute_command("CLIENT REPLY", reply, **kwargs)

    def client_id(self, **kwargs: Any) -> ResponseT:
        """Return the id of the current connection.

        For more information, see https://redis.io/commands/client-id
        """
        return self.execute_command("CLIENT ID", **kwargs)

    def client_tracking_on(
        self,
        clientid: Optional[int] = None,
        prefix: Sequence[KeyT] = [],
        bcast: bool = False,
        optin: bool = False,
        optout: bool = False,
        noloop: bool = False,
    ) -> ResponseT:
        """Turn tracking on; see :meth:`client_tracking`.

        For more information, see https://redis.io/commands/client-tracking
        """
        return self.client_tracking(True, clientid, prefix, bcast, optin, optout, noloop)

    def client_tracking_off(
        self,
        clientid: Optional[int] = None,
        prefix: Sequence[KeyT] = [],
        bcast: bool = False,
        optin: bool = False,
        optout: bool = False,
        noloop: bool = False,
    ) -> ResponseT:
        """Turn tracking off; see :meth:`client_tracking`.

        For more information, see https://redis.io/commands/client-tracking
        """
        return self.client_tracking(False, clientid, prefix, bcast, optin, optout, noloop)

    def client_tracking(
        self,
        on: bool = True,
        clientid: Optional[int] = None,
        prefix: Sequence[KeyT] = [],
        bcast: bool = False,
        optin: bool = False,
        optout: bool = False,
        noloop: bool = False,
        **kwargs: Any,
    ) -> ResponseT:
        """Switch server-assisted client-side caching ``on`` or off.

        ``clientid`` redirects the invalidation messages to another
        connection; ``bcast`` tracks every key with one of the ``prefix``
        prefixes (only allowed with ``bcast``); ``optin`` / ``optout`` track
        only keys read right after CLIENT CACHING yes / all but those after
        CLIENT CACHING no; ``noloop`` skips invalidations caused by this
        connection.

        For more information, see https://redis.io/commands/client-tracking
        """
        if len(prefix) != 0 and bcast is False:
            raise DataError("Prefix can only be used with bcast")
        args: List[Any] = ["ON" if on else "OFF"]
        if clientid is not None:
            args += ("REDIRECT", clientid)
        for item in prefix:
            args += ("PREFIX", item)
        for flag, word in ((bcast, "BCAST"), (optin, "OPTIN"), (optout, "OPTOUT"), (noloop, "NOLOOP")):
            if flag:
                args.append(word)
        return self.execute_command("CLIENT TRACKING", *args, **kwargs)

    def client_trackinginfo(self, **kwargs: Any) -> ResponseT:
        """Return the tracking state of the current connection.

        For more information, see https://redis.io/commands/client-trackinginfo
        """
        return self.execute_command("CLIENT TRACKINGINFO", **kwargs)

    def client_setname(self, name: str, **kwargs: Any) -> ResponseT:
        """Name the current connection only (the ``client_name`` constructor
        argument names every connection of the pool).

        For more information, see https://redis.io/commands/client-setname
        """
        return self.execute_command("CLIENT SETNAME", name, **kwargs)

    def client_setinfo(self, attr: str, value: str, **kwargs: Any) -> ResponseT:
        """Set the ``LIB-NAME`` or ``LIB-VER`` attribute of the connection.

        For more information, see https://redis.io/commands/client-setinfo
        """
        return self.execute_command("CLIENT SETINFO", attr, value, **kwargs)

    def client_unblock(self, client_id: int, error: bool = False, **kwargs: Any) -> ResponseT:
        """Unblock the client ``client_id`` blocked in a blocking command, as
        if it timed out, or with an error when ``error``.  Returns whether a
        client was unblocked.

        For more information, see https://redis.io/commands/client-unblock
        """
        args: List[Any] = ["CLIENT UNBLOCK", int(client_id)]
        if error:
            args.append(b"ERROR")
        return self.execute_command(*args, **kwargs)

    def client_pause(self, timeout: int, all: bool = True, **kwargs: Any) -> ResponseT:
        """Suspend clients for ``timeout`` milliseconds: all their commands,
        or only writes when ``all`` is False.

        For more information, see https://redis.io/commands/client-pause
        """
        args: List[Any] = ["CLIENT PAUSE", str(timeout)]
        if not isinstance(timeout, int):
            raise DataError("CLIENT PAUSE timeout must be an integer")
        if not all:
            args.append("WRITE")
        return self.execute_command(*args, **kwargs)

    def client_unpause(self, **kwargs: Any) -> ResponseT:
        """Resume the clients suspended by :meth:`client_pause`.

        For more information, see https://redis.io/commands/client-unpause
        """
        return self.execute_command("CLIENT UNPAUSE", **kwargs)

    def client_no_evict(self, mode: str) -> ResponseT:
        """Exclude (``"ON"``) or not (``"OFF"``) this connection from client
        eviction.

        For more information, see https://redis.io/commands/client-no-evict
        """
        return self.execute_command("CLIENT NO-EVICT", mode)

    def client_no_touch(self, mode: str) -> ResponseT:
        """With ``"ON"``, commands of this connection no longer update the
        LRU/LFU data of the keys they read (TOUCH still does).

        For more information, see https://redis.io/commands/client-no-touch
        """
        return self.execute_command("CLIENT NO-TOUCH", mode)

    def echo(self, value: EncodableT, **kwargs: Any) -> ResponseT:
        """Return ``value`` as sent back by the server.

        For more information, see https://redis.io/commands/echo
        """
        return self.execute_command("ECHO", value, **kwargs)

    def hello(self) -> None:
        """Not supported: the protocol is negotiated by the connection. (redis-py raises the same
        NotImplementedError.)

        For more information, see https://redis.io/commands/hello
        """
        raise NotImplementedError("HELLO is intentionally not implemented in the client.")

    def ping(self, **kwargs: Any) -> ResponseT:
        """Check the connection: True when the server answers PONG.

        For more information, see https://redis.io/commands/ping
        """
        return self.execute_command("PING", **kwargs)

    def quit(self, **kwargs: Any) -> ResponseT:
        """Ask the server to close this connection.

        For more information, see https://redis.io/commands/quit
        """
        return self.execute_command("QUIT", **kwargs)

    def reset(self) -> ResponseT:
        """Reset the connection's server-side state (database, transaction,
        subscriptions, tracking, authentication...).

        For more information, see https://redis.io/commands/reset
        """
        return self.execute_command("RESET")

    def select(self, index: int, **kwargs: Any) -> ResponseT:
        """Switch this connection to database ``index``.  Prefer the ``db``
        constructor argument: pooled connections do not keep the change.

        For more information, see https://redis.io/commands/select
        """
        return self.execute_command("SELECT", index, **kwargs)

    # ------------------------------------------------------------------
    # server
    # ------------------------------------------------------------------

    def bgrewriteaof(self, **kwargs: Any) -> ResponseT:
        """Start rewriting the append-only file in the background.

        For more information, see https://redis.io/commands/bgrewriteaof
        """
        return self.execute_command("BGREWRITEAOF", **kwargs)

    def bgsave(self, schedule: bool = True, **kwargs: Any) -> ResponseT:
        """Start saving the dataset to disk in the background; with
        ``schedule``, postpone it if an AOF rewrite is running.

        For more information, see https://redis.io/commands/bgsave
        """
        if schedule:
            return self.execute_command("BGSAVE", "SCHEDULE", **kwargs)
        return self.execute_command("BGSAVE", **kwargs)

    def role(self) -> ResponseT:
        """Return the replication role of the server (master, slave or
        sentinel) with its details.

        For more information, see https://redis.io/commands/role
        """
        return self.execute_command("ROLE")

    def command(self, **kwargs: Any) -> ResponseT:
        """Return a dict describing every command the server knows.

        For more information, see https://redis.io/commands/command
        """
        return self.execute_command("COMMAND", **kwargs)

    def command_info(self, **kwargs: Any) -> None:
        """Not supported by the client. (redis-py raises the same
        NotImplementedError.)

        For more information, see https://redis.io/commands/command-info
        """
        raise NotImplementedError(
            "COMMAND INFO is intentionally not implemented in the client."
        )

    def command_count(self, **kwargs: Any) -> ResponseT:
        """Return the number of commands the server knows.

        For more information, see https://redis.io/commands/command-count
        """
        return self.execute_command("COMMAND COUNT", **kwargs)

    def command_list(
        self,
        module: Optional[str] = None,
        category: Optional[str] = None,
        pattern: Optional[str] = None,
    ) -> ResponseT:
        """Return the command names, optionally filtered by ``module``, ACL
        ``category`` or glob ``pattern``.

        For more information, see https://redis.io/commands/command-list
        """
        args: List[Any] = []
        for word, value in (("MODULE", module), ("ACLCAT", category), ("PATTERN", pattern)):
            if value is not None:
                args += (word, value)
        if args:
            args.insert(0, "FILTERBY")
        return self.execute_command("COMMAND LIST", *args)

    def command_getkeysandflags(self, *args: str) -> List[Union[str, List[str]]]:
        """Return the keys of the full command ``args`` with their access
        flags.

        For more information, see https://redis.io/commands/command-getkeysandflags
        """
        return self.execute_command("COMMAND GETKEYSANDFLAGS", *args)

    def command_docs(self, *args: Any) -> None:
        """Not supported by the client. (redis-py raises the same
        NotImplementedError.)

        For more information, see https://redis.io/commands/command-docs
        """
        raise NotImplementedError(
            "COMMAND DOCS is intentionally not implemented in the client."
        )

    def config_get(self, pattern: PatternT = "*", *args: PatternT, **kwargs: Any) -> ResponseT:
        """Return ``{name: value}`` for the configuration parameters matching
        ``pattern`` (and the further patterns in ``args``).

        For more information, see https://redis.io/commands/config-get
        """
        return self.execute_command("CONFIG GET", pattern, *args, **kwargs)

    def config_set(
        self,
        name: KeyT,
        value: EncodableT,
        *args: Union[KeyT, EncodableT],
        **kwargs: Any,
    ) -> ResponseT:
        """Set configuration parameter ``name`` to ``value`` (``args`` may
        add more name/value pairs).

        For more information, see https://redis.io/commands/config-set
        """
        return self.execute_command("CONFIG SET", name, value, *args, **kwargs)

    def config_resetstat(self, **kwargs: Any) -> ResponseT:
        """Reset the statistics reported by INFO.

        For more information, see https://redis.io/commands/config-resetstat
        """
        return self.execute_command("CONFIG RESETSTAT", **kwargs)

    def config_rewrite(self, **kwargs: Any) -> ResponseT:
        """Rewrite the server's configuration file with the running
        configuration.

        For more information, see https://redis.io/commands/config-rewrite
        """
        return self.execute_command("CONFIG REWRITE", **kwargs)

    def dbsize(self, **kwargs: Any) -> ResponseT:
        """Return the number of keys in the current database.

        For more information, see https://redis.io/commands/dbsize
        """
        return self.execute_command("DBSIZE", **kwargs)

    def debug_object(self, key: KeyT, **kwargs: Any) -> ResponseT:
        """Return the internal details of the value at ``key`` as a dict.

        For more information, see https://redis.io/commands/debug-object
        """
        return self.execute_command("DEBUG OBJECT", key, **kwargs)

    def debug_segfault(self, **kwargs: Any) -> None:
        """Not supported by the client."""
        raise _not_implemented("DEBUG SEGFAULT", "debug-segfault")

    def flushall(self, asynchronous: bool = False, **kwargs: Any) -> ResponseT:
        """Delete every key of every database; in the background when
        ``asynchronous``.

        For more information, see https://redis.io/commands/flushall
        """
        if asynchronous:
            return self.execute_command("FLUSHALL", b"ASYNC", **kwargs)
        return self.execute_command("FLUSHALL", **kwargs)

    def flushdb(self, asynchronous: bool = False, **kwargs: Any) -> ResponseT:
        """Delete every key of the current database; in the background when
        ``asynchronous``.

        For more information, see https://redis.io/commands/flushdb
        """
        if asynchronous:
            return self.execute_command("FLUSHDB", b"ASYNC", **kwargs)
        return self.execute_command("FLUSHDB", **kwargs)

    def sync(self) -> ResponseT:
        """Ask the server for a replication stream (as a replica would); the
        reply is read as raw bytes.

        For more information, see https://redis.io/commands/sync
        """
        return self.execute_command("SYNC", **{NEVER_DECODE: []})

    def psync(self, replicationid: str, offset: int) -> ResponseT:
        """Partial-resynchronisation variant of :meth:`sync` from
        ``replicationid`` at ``offset``.

        For more information, see https://redis.io/commands/psync
        """
        return self.execute_command("PSYNC", replicationid, offset, **{NEVER_DECODE: []})

    def swapdb(self, first: int, second: int, **kwargs: Any) -> ResponseT:
        """Exchange the contents of databases ``first`` and ``second``.

        For more information, see https://redis.io/commands/swapdb
        """
        return self.execute_command("SWAPDB", first, second, **kwargs)

    def info(self, section: Optional[str] = None, *args: str, **kwargs: Any) -> ResponseT:
        """Return the server information as a dict; ``section`` (and more
        section names in ``args``) restricts it, e.g. ``"memory"``,
        ``"all"``, ``"everything"``.

        For more information, see https://redis.io/commands/info
        """
        if section is None:
            return self.execute_command("INFO", **kwargs)
        return self.execute_command("INFO", section, *args, **kwargs)

    def lastsave(self, **kwargs: Any) -> ResponseT:
        """Return the time of the last successful save as a ``datetime``.

        For more information, see https://redis.io/commands/lastsave
        """
        return self.execute_command("LASTSAVE", **kwargs)

    def latency_doctor(self) -> None:
        """Not supported by the client; use redis-cli. (redis-py raises the same
        NotImplementedError.)

        For more information, see https://redis.io/commands/latency-doctor
        """
        raise _not_implemented("LATENCY DOCTOR", "latency-doctor")

    def latency_graph(self) -> None:
        """Not supported by the client; use redis-cli. (redis-py raises the same
        NotImplementedError.)

        For more information, see https://redis.io/commands/latency-graph
        """
        raise _not_implemented("LATENCY GRAPH", "latency-graph")

    def latency_histogram(self, *args: Any) -> None:
        """Not supported by the client. (redis-py raises the same
        NotImplementedError.)

        For more information, see https://redis.io/commands/latency-histogram
        """
        raise NotImplementedError(
            "LATENCY HISTOGRAM is intentionally not implemented in the client."
        )

    def latency_history(self, event: str) -> ResponseT:
        """Return the ``[timestamp, latency]`` samples recorded for ``event``.

        For more information, see https://redis.io/commands/latency-history
        """
        return self.execute_command("LATENCY HISTORY", event)

    def latency_latest(self) -> ResponseT:
        """Return the latest latency sample of every event.

        For more information, see https://redis.io/commands/latency-latest
        """
        return self.execute_command("LATENCY LATEST")

    def latency_reset(self, *events: str) -> ResponseT:
        """Clear the latency samples of ``events`` (all when none given);
        return how many series were reset.

        For more information, see https://redis.io/commands/latency-reset
        """
        return self.execute_command("LATENCY RESET", *events)

    def lolwut(self, *version_numbers: Union[str, float], **kwargs: Any) -> ResponseT:
        """Return the server version with a piece of generated art
        (``version_numbers`` selects the art).

        For more information, see https://redis.io/commands/lolwut
        """
        if version_numbers:
            return self.execute_command("LOLWUT VERSION", *version_numbers, **kwargs)
        return self.execute_command("LOLWUT", **kwargs)

    def migrate(
        self,
        host: str,
        port: int,
        keys: KeysT,
        destination_db: int,
        timeout: int,
        copy: bool = False,
        replace: bool = False,
        auth: Optional[str] = None,
        **kwargs: Any,
    ) -> ResponseT:
        """Move ``keys`` to database ``destination_db`` of the server at
        ``host``:``port``; ``timeout`` is the maximum idle time in
        milliseconds.  ``copy`` keeps the source keys, ``replace`` overwrites
        existing destination keys, ``auth`` is the destination password.

        For more information, see https://redis.io/commands/migrate
        """
        names = list_or_args(keys, [])
        if not names:
            raise DataError("MIGRATE requires at least one key")
        args: List[Any] = []
        if copy:
            args.append(b"COPY")
        if replace:
            args.append(b"REPLACE")
        if auth:
            args += (b"AUTH", auth)
        args.append(b"KEYS")
        args += names
        return self.execute_command(
            "MIGRATE", host, port, "", destination_db, timeout, *args, **kwargs
        )

    def object(self, infotype: str, key: KeyT, **kwargs: Any) -> ResponseT:
        """Return the ``infotype`` (``encoding``, ``idletime``, ``refcount``,
        ``freq``) of the value at ``key``.

        For more information, see https://redis.io/commands/object
        """
        return self.execute_command("OBJECT", infotype, key, infotype=infotype, **kwargs)

    def memory_doctor(self, **kwargs: Any) -> None:
        """Not supported by the client. (redis-py raises the same
        NotImplementedError.)

        For more information, see https://redis.io/commands/memory-doctor
        """
        raise _not_implemented("MEMORY DOCTOR", "memory-doctor")

    def memory_help(self, **kwargs: Any) -> None:
        """Not supported by the client. (redis-py raises the same
        NotImplementedError.)

        For more information, see https://redis.io/commands/memory-help
        """
        raise _not_implemented("MEMORY HELP", "memory-help")

    def memory_stats(self, **kwargs: Any) -> ResponseT:
        """Return the server's memory usage details as a dict.

        For more information, see https://redis.io/commands/memory-stats
        """
        return self.execute_command("MEMORY STATS", **kwargs)

    def memory_malloc_stats(self, **kwargs: Any) -> ResponseT:
        """Return the allocator's internal statistics report.

        For more information, see https://redis.io/commands/memory-malloc-stats
        """
        return self.execute_command("MEMORY MALLOC-STATS", **kwargs)

    def memory_usage(self, key: KeyT, samples: Optional[int] = None, **kwargs: Any) -> ResponseT:
        """Return the bytes used by ``key`` and its value; for aggregates,
        ``samples`` elements are sampled (server default 5, 0 for all).

        For more information, see https://redis.io/commands/memory-usage
        """
        if isinstance(samples, int):
            return self.execute_command("MEMORY USAGE", key, b"SAMPLES", samples, **kwargs)
        return self.execute_command("MEMORY USAGE", key, **kwargs)

    def memory_purge(self, **kwargs: Any) -> ResponseT:
        """Ask the allocator to release dirty pages.

        For more information, see https://redis.io/commands/memory-purge
        """
        return self.execute_command("MEMORY PURGE", **kwargs)

    def replicaof(self, *args: Any, **kwargs: Any) -> ResponseT:
        """Make the server a replica of ``host port``, or a master with
        ``"NO", "ONE"``.

        For more information, see https://redis.io/commands/replicaof
        """
        return self.execute_command("REPLICAOF", *args, **kwargs)

    def save(self, **kwargs: Any) -> ResponseT:
        """Save the dataset to disk, blocking the server until done.

        For more information, see https://redis.io/commands/save
        """
        return self.execute_command("SAVE", **kwargs)

    def shutdown(
        self,
        save: bool = False,
        nosave: bool = False,
        now: bool = False,
        force: bool = False,
        abort: bool = False,
        **kwargs: Any,
    ) -> None:
        """Stop the server.  ``save`` / ``nosave`` force or skip the final
        save, ``now`` does not wait for lagging replicas, ``force`` ignores
        errors that would prevent exiting, ``abort`` cancels a shutdown in
        progress.  Raises RedisError if the server is still answering.

        For more information, see https://redis.io/commands/shutdown
        """
        if save and nosave:
            raise DataError("SHUTDOWN save and nosave cannot both be set")
        args: List[Any] = ["SHUTDOWN"]
        for flag, word in (
            (save, "SAVE"),
            (nosave, "NOSAVE"),
            (now, "NOW"),
            (force, "FORCE"),
            (abort, "ABORT"),
        ):
            if flag:
                args.append(word)
        try:
            self.execute_command(*args, **kwargs)
        except ConnectionError:
            # the server closed the connection: it is going down
            return
        raise RedisError("SHUTDOWN seems to have failed.")

    def slaveof(self, host: Optional[str] = None, port: Optional[int] = None, **kwargs: Any) -> ResponseT:
        """Replicate the server at ``host``:``port``, or stop replicating
        when both are omitted.

        For more information, see https://redis.io/commands/slaveof
        """
        if host is None and port is None:
            return self.execute_command("SLAVEOF", b"NO", b"ONE", **kwargs)
        return self.execute_command("SLAVEOF", host, port, **kwargs)

    def slowlog_get(self, num: Optional[int] = None, **kwargs: Any) -> ResponseT:
        """Return the ``num`` most recent slow log entries (server default
        10) as dicts.  As in redis-py, the commands are bytes even when the
        client decodes responses.

        For more information, see https://redis.io/commands/slowlog-get
        """
        args: List[Any] = ["SLOWLOG GET"]
        if num is not None:
            args.append(num)
        if self.get_encoder().decode_responses is True:
            kwargs[NEVER_DECODE] = []
        return self.execute_command(*args, **kwargs)

    def slowlog_len(self, **kwargs: Any) -> ResponseT:
        """Return the number of entries in the slow log.

        For more information, see https://redis.io/commands/slowlog-len
        """
        return self.execute_command("SLOWLOG LEN", **kwargs)

    def slowlog_reset(self, **kwargs: Any) -> ResponseT:
        """Empty the slow log.

        For more information, see https://redis.io/commands/slowlog-reset
        """
        return self.execute_command("SLOWLOG RESET", **kwargs)

    def time(self, **kwargs: Any) -> ResponseT:
        """Return the server time as ``(seconds, microseconds)``.

        For more information, see https://redis.io/commands/time
        """
        return self.execute_command("TIME", **kwargs)

    def wait(self, num_replicas: int, timeout: int, **kwargs: Any) -> ResponseT:
        """Block until the previous writes reached ``num_replicas`` replicas
        or ``timeout`` milliseconds passed; return how many replicas
        acknowledged.

        For more information, see https://redis.io/commands/wait
        """
        return self.execute_command("WAIT", num_replicas, timeout, **kwargs)

    def waitaof(self, num_local: int, num_replicas: int, timeout: int, **kwargs: Any) -> ResponseT:
        """Block until the previous writes are fsynced to the local AOF
        (``num_local``: 0 or 1) and to ``num_replicas`` replicas, or
        ``timeout`` milliseconds passed.  Returns ``[local, replicas]``.

        For more information, see https://redis.io/commands/waitaof
        """
        return self.execute_command("WAITAOF", num_local, num_replicas, timeout, **kwargs)

    def failover(self) -> None:
        """Not supported by the client. (redis-py raises the same
        NotImplementedError.)

        For more information, see https://redis.io/commands/failover
        """
        raise NotImplementedError(
            "FAILOVER is intentionally not implemented in the client."
        )

    def hotkeys_start(
        self,
        metrics: List[HotkeysMetricsTypes],
        count: Optional[int] = None,
        duration: Optional[int] = None,
        sample_ratio: Optional[int] = None,
        slots: Optional[List[int]] = None,
        **kwargs: Any,
    ) -> ResponseT:
        """Start collecting the hottest keys by the given ``metrics`` (CPU,
        NET): ``count`` keys per metric, stop after ``duration`` seconds,
        sample one command in ``sample_ratio``, only in hash ``slots``.

        For more information, see https://redis.io/commands/hotkeys-start
        """
        args: List[Any] = ["HOTKEYS", "START", "METRICS", len(metrics)]
        args += [str(metric.value) for metric in metrics]
        if count is not None:
            args += ("COUNT", count)
        if duration is not None:
            args += ("DURATION", duration)
        if sample_ratio is not None:
            args += ("SAMPLE", sample_ratio)
        if slots is not None:
            args += ("SLOTS", len(slots))
            args += slots
        return self.execute_command(*args, **kwargs)

    def hotkeys_stop(self, **kwargs: Any) -> ResponseT:
        """Stop the hot key collection; its results stay available.

        For more information, see https://redis.io/commands/hotkeys-stop
        """
        return self.execute_command("HOTKEYS STOP", **kwargs)

    def hotkeys_reset(self, **kwargs: Any) -> ResponseT:
        """Drop the results of the last hot key collection.

        For more information, see https://redis.io/commands/hotkeys-reset
        """
        return self.execute_command("HOTKEYS RESET", **kwargs)

    def hotkeys_get(self, **kwargs: Any) -> ResponseT:
        """Return the results of the current or last hot key collection, as a
        list with one dict per node.

        For more information, see https://redis.io/commands/hotkeys-get
        """
        return self.execute_command("HOTKEYS GET", **kwargs)


class ModuleCommands:
    """Module management (https://redis.io/docs/reference/modules/)."""

    def module_load(self, path: str, *args: Any) -> ResponseT:
        """Load the module at ``path``, passing it ``args``.

        For more information, see https://redis.io/commands/module-load
        """
        return self.execute_command("MODULE LOAD", path, *args)

    def module_loadex(
        self,
        path: str,
        options: Optional[List[str]] = None,
        args: Optional[List[str]] = None,
    ) -> ResponseT:
        """Load the module at ``path`` with configuration directives
        ``options`` and arguments ``args``.

        For more information, see https://redis.io/commands/module-loadex
        """
        pieces: List[Any] = []
        if options is not None:
            pieces.append("CONFIG")
            pieces += options
        if args is not None:
            pieces.append("ARGS")
            pieces += args
        return self.execute_command("MODULE LOADEX", path, *pieces)

    def module_unload(self, name: str) -> ResponseT:
        """Unload the module ``name``.

        For more information, see https://redis.io/commands/module-unload
        """
        return self.execute_command("MODULE UNLOAD", name)

    def module_list(self) -> ResponseT:
        """Return one dict (name, ver, ...) per loaded module.

        For more information, see https://redis.io/commands/module-list
        """
        return self.execute_command("MODULE LIST")

    def command_info(self) -> None:
        """Not supported by the client."""
        raise NotImplementedError(
            "COMMAND INFO is intentionally not implemented in the client."
        )

    def command_count(self) -> ResponseT:
        """Return the number of commands the server knows.

        For more information, see https://redis.io/commands/command-count
        """
        return self.execute_command("COMMAND COUNT")

    def command_getkeys(self, *args: Any) -> ResponseT:
        """Return the key names of the full command ``args``.

        For more information, see https://redis.io/commands/command-getkeys
        """
        return self.execute_command("COMMAND GETKEYS", *args)

    def command(self) -> ResponseT:
        """Return a dict describing every command the server knows.

        For more information, see https://redis.io/commands/command
        """
        return self.execute_command("COMMAND")


class ClusterCommands:
    """The few cluster commands available on a plain client."""

    def cluster(self, cluster_arg: str, *args: Any, **kwargs: Any) -> ResponseT:
        """Send ``CLUSTER <cluster_arg> args...``.

        For more information, see https://redis.io/commands/cluster
        """
        return self.execute_command(f"CLUSTER {cluster_arg.upper()}", *args, **kwargs)

    def readwrite(self, **kwargs: Any) -> ResponseT:
        """Stop allowing reads on this replica connection.

        For more information, see https://redis.io/commands/readwrite
        """
        return self.execute_command("READWRITE", **kwargs)

    def readonly(self, **kwargs: Any) -> ResponseT:
        """Allow reads from a cluster replica on this connection.

        For more information, see https://redis.io/commands/readonly
        """
        return self.execute_command("READONLY", **kwargs)


class AsyncManagementCommands(ManagementCommands):
    """ManagementCommands for the asyncio client: the methods that do more
    than return ``execute_command(...)`` are coroutines."""

    async def command_info(self, **kwargs: Any) -> None:
        """Not supported by the client (raises NotImplementedError, as redis-py)."""
        return super().command_info(**kwargs)

    async def debug_segfault(self, **kwargs: Any) -> None:
        """Not supported by the client (raises NotImplementedError, as redis-py)."""
        return super().debug_segfault(**kwargs)

    async def memory_doctor(self, **kwargs: Any) -> None:
        """Not supported by the client (raises NotImplementedError, as redis-py)."""
        return super().memory_doctor(**kwargs)

    async def memory_help(self, **kwargs: Any) -> None:
        """Not supported by the client (raises NotImplementedError, as redis-py)."""
        return super().memory_help(**kwargs)

    async def shutdown(
        self,
        save: bool = False,
        nosave: bool = False,
        now: bool = False,
        force: bool = False,
        abort: bool = False,
        **kwargs: Any,
    ) -> None:
        """Shut the server down (see :meth:`ManagementCommands.shutdown`);
        raises RedisError if the server is still answering."""
        if save and nosave:
            raise DataError("SHUTDOWN save and nosave cannot both be set")
        args: List[Any] = ["SHUTDOWN"]
        for flag, word in ((save, "SAVE"), (nosave, "NOSAVE"), (now, "NOW"),
                           (force, "FORCE"), (abort, "ABORT")):
            if flag:
                args.append(word)
        try:
            await self.execute_command(*args, **kwargs)
        except ConnectionError:
            # the server closed the connection: it is going down
            return
        raise RedisError("SHUTDOWN seems to have failed.")


class AsyncModuleCommands(ModuleCommands):
    """ModuleCommands for the asyncio client."""

    async def command_info(self) -> None:
        """Not supported by the client (raises NotImplementedError, as redis-py)."""
        return super().command_info()
