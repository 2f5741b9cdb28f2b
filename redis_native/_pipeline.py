"""``Pipeline``: buffered commands sent in one round trip, optionally as a
MULTI/EXEC transaction (redis-py's ``redis.client.Pipeline``).

A pipeline queues ``(args, options)`` pairs on ``command_stack``;
``execute()`` takes one connection from the pool, sends everything, reads one
reply per command and applies the response callbacks.

With one of redis_native's own connection classes (exactly ``Connection`` or
``UnixDomainSocketConnection``) the whole exchange is one call into C,
``Connection._execute_pipeline``: all commands are packed into one buffer,
written at once, and the replies come back as a list in which error replies
are exception instances.  Any other connection class (a user subclass that may
override ``send_packed_command``, ``read_response``...) is driven through its
Python methods, command by command, so its overrides are honoured.  Both paths
interpret the replies with the same code, so they give the same results and
raise the same errors.

``redis_native.client`` re-exports the class; import it from there.
"""
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from .client import Redis
from .commands.helpers import EMPTY_RESPONSE, NEVER_DECODE
from . import _native
from .exceptions import ConnectionError, ExecAbortError, RedisError, ResponseError, WatchError
from .utils import safe_str, truncate_text

__all__ = ["Pipeline"]

# options that steer reading, not the response callbacks
_READ_OPTIONS = (NEVER_DECODE, EMPTY_RESPONSE, "keys")

_MULTI = (("MULTI",), {})
_EXEC = (("EXEC",), {})

CommandStack = List[Tuple[Tuple[Any, ...], Dict[str, Any]]]


def _callback_options(options: Dict[str, Any]) -> Dict[str, Any]:
    """The options a response callback receives (the read-steering ones removed)."""
    if not options:
        return options
    if NEVER_DECODE in options or EMPTY_RESPONSE in options or "keys" in options:
        return {k: v for k, v in options.items() if k not in _READ_OPTIONS}
    return options


class _CallbackLookup(dict):
    """Memo of ``callbacks.get(name)`` for one execute(): the client's
    case-insensitive mapping is consulted once per distinct command name."""

    __slots__ = ("callbacks",)

    def __init__(self, callbacks: Any) -> None:
        super().__init__()
        self.callbacks = callbacks

    def __missing__(self, name: Any) -> Any:
        cb = self[name] = self.callbacks.get(name)
        return cb


# command names whose successful reply changes the WATCH state
_WATCH_STATE_COMMANDS = frozenset({"DISCARD", "EXEC", "UNWATCH", "WATCH"})


class Pipeline(Redis):
    """Queue commands and send them together with :meth:`execute`.

    With ``transaction=True`` (what ``Redis.pipeline()`` gives by default) the
    queued commands are wrapped in MULTI/EXEC, so the server runs them
    atomically.  Before that, :meth:`watch` switches the pipeline to immediate
    mode: commands run at once on the pipeline's own connection (to read the
    watched values) until :meth:`multi` starts buffering again; ``execute()``
    then raises :class:`~redis_native.exceptions.WatchError` if a watched key
    was changed meanwhile.

    An error reply does not stop the other commands.  ``execute()`` raises the
    first error, its message prefixed with the command's position and text;
    ``execute(raise_on_error=False)`` returns the exception instances in place
    of the failed commands' results instead.

    Every queuing command method returns the pipeline itself, so calls chain:
    ``pipe.set("a", 1).incr("a").execute()``.
    """

    UNWATCH_COMMANDS = {"DISCARD", "EXEC", "UNWATCH"}

    def __init__(self, connection_pool: Any, response_callbacks: Any, transaction: bool,
                 shard_hint: Any) -> None:
        # Redis.__init__ is not called: the pipeline borrows its client's pool
        # and callbacks instead of building its own.
        self.connection_pool = connection_pool
        self.connection = None
        self.response_callbacks = response_callbacks
        self.transaction = transaction
        self.shard_hint = shard_hint
        self.watching = False
        self.command_stack: CommandStack = []
        self.scripts: Set[Any] = set()
        self.explicit_transaction = False

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__}({self.connection_pool!r})>"

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.reset()

    def __del__(self) -> None:
        try:
            self.reset()
        except Exception:
            pass

    def __len__(self) -> int:
        return len(self.command_stack)

    def __bool__(self) -> bool:
        """A pipeline is true even when no command is queued."""
        return True

    # -- state -----------------------------------------------------------------
    def reset(self) -> None:
        """Forget the queued commands and scripts, end any WATCH and give the
        connection back to the pool."""
        self.command_stack = []
        self.scripts = set()
        conn = self.connection
        if self.watching and conn:
            # sent by hand: unwatch() and immediate_execute_command() may
            # themselves call reset()
            try:
                conn.send_command("UNWATCH")
                conn.read_response()
            except ConnectionError:
                # a closed connection has no WATCH left on the server either
                conn.disconnect()
        self.watching = False
        self.explicit_transaction = False
        # no WATCH is active any more: the connection may serve others
        if self.connection:
            conn = self.connection
            self.connection = None
            self.connection_pool.release(conn)

    def close(self) -> None:
        """Same as :meth:`reset`."""
        self.reset()

    def multi(self) -> None:
        """Start buffering the transaction's commands after :meth:`watch`
        (the block is sent, wrapped in MULTI/EXEC, by :meth:`execute`)."""
        if self.explicit_transaction:
            raise RedisError("Cannot issue nested calls to MULTI")
        if self.command_stack:
            raise RedisError("Commands without an initial WATCH have already been issued")
        self.explicit_transaction = True

    # -- queuing / immediate execution -------------------------------------------
    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        """Queue the command, or run it at once while WATCHing before MULTI."""
        if (self.watching or args[0] == "WATCH") and not self.explicit_transaction:
            return self.immediate_execute_command(*args, **kwargs)
        return self.pipeline_execute_command(*args, **kwargs)

    def pipeline_execute_command(self, *args: Any, **options: Any) -> "Pipeline":
        """Append the command to the stack sent by :meth:`execute`; returns
        the pipeline so that calls can be chained."""
        self.command_stack.append((args, options))
        return self

    def _send_command_parse_response(self, conn: Any, command_name: Any, *args: Any,
                                     **options: Any) -> Any:
        conn.send_command(*args, **options)
        return self.parse_response(conn, command_name, **options)

    def _disconnect_reset_raise_on_watching(self, conn: Any, error: Exception,
                                            failure_count: Optional[int] = None,
                                            start_time: Optional[float] = None,
                                            command_name: Optional[str] = None) -> None:
        """Retry hook of :meth:`immediate_execute_command`: drop the connection;
        if keys were being watched the WATCH died with it, so reset the
        pipeline and raise WatchError (the caller should start over)."""
        conn.disconnect()
        if self.watching:
            self.reset()
            raise WatchError(
                f"A {type(error).__name__} occurred while watching one or more keys"
            )

    def immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        """Run one command now on the pipeline's connection (WATCH, and the
        reads between WATCH and MULTI).  Connection errors are retried per
        the connection's ``retry``, except while watching: the WATCH is lost
        with the connection, so WatchError is raised instead."""
        command_name = args[0]
        conn = self.connection
        if not conn:
            conn = self.connection_pool.get_connection()
            self.connection = conn

        def failure(error: Exception, failure_count: int) -> None:
            self._disconnect_reset_raise_on_watching(conn, error, failure_count, None,
                                                     command_name)

        return conn.retry.call_with_retry(
            lambda: self._send_command_parse_response(conn, command_name, *args, **options),
            failure,
            with_failure_count=True,
        )

    # -- replies -------------------------------------------------------------------
    def parse_response(self, connection: Any, command_name: Any, **options: Any) -> Any:
        """Read one reply (see ``Redis.parse_response``) and track WATCH state."""
        result = Redis.parse_response(self, connection, command_name, **options)
        if command_name in self.UNWATCH_COMMANDS:
            self.watching = False
        elif command_name == "WATCH":
            self.watching = True
        return result

    def _use_fast_path(self, connection: Any) -> bool:
        # the C primitive stands in for the per-reply parse_response calls,
        # so it is only used when nothing along that path was replaced
        return _native._stands_in(connection) and _native._stands_in(self)

    def annotate_exception(self, exception: Exception, number: int, command: Sequence[Any]) -> None:
        """Prefix ``exception``'s message with the command's position (1-based)
        and its (shortened) text."""
        cmd = truncate_text(" ".join(map(safe_str, command)))
        msg = f"Command # {number} ({cmd}) of pipeline caused error: {exception.args[0]}"
        exception.args = (msg,) + exception.args[1:]

    def raise_first_error(self, commands: CommandStack, response: List[Any]) -> None:
        """Annotate and raise the first ResponseError found in ``response``."""
        for i, r in enumerate(response):
            if isinstance(r, ResponseError):
                self.annotate_exception(r, i + 1, commands[i][0])
                raise r

    def _execute_transaction(self, connection: Any, commands: CommandStack,
                             raise_on_error: bool) -> List[Any]:
        # commands answered without asking the server (EMPTY_RESPONSE) are not sent
        sent = [c for c in commands if EMPTY_RESPONSE not in c[1]]
        if self._use_fast_path(connection):
            replies = connection._execute_pipeline([_MULTI, *sent, _EXEC])
        else:
            connection.send_packed_command(
                connection.pack_commands([_MULTI[0], *(args for args, _ in sent), _EXEC[0]])
            )
            replies = []
            # read every reply before judging any, so the connection stays in step
            for _ in range(len(sent) + 2):
                try:
                    replies.append(self.parse_response(connection, "_"))
                except ResponseError as e:
                    replies.append(e)
        return self._transaction_result(commands, replies, raise_on_error)

    def _transaction_result(self, commands: CommandStack, replies: List[Any],
                            raise_on_error: bool) -> List[Any]:
        """Interpret the replies to MULTI, the queued commands and EXEC."""
        errors: List[Tuple[int, Any]] = []
        pos = 0
        reply = replies[pos]
        if isinstance(reply, Exception):
            if not isinstance(reply, ResponseError):
                raise reply
            errors.append((0, reply))
        for i, (args, options) in enumerate(commands):
            if EMPTY_RESPONSE in options:
                errors.append((i, options[EMPTY_RESPONSE]))
                continue
            pos += 1
            reply = replies[pos]
            if isinstance(reply, Exception):
                if not isinstance(reply, ResponseError):
                    raise reply
                self.annotate_exception(reply, i + 1, args)
                errors.append((i, reply))
        response = replies[pos + 1]
        if isinstance(response, Exception):
            if isinstance(response, ExecAbortError):
                # the server refused the whole block: report why (the first
                # command it did not queue) rather than the bare EXECABORT
                for _, e in errors:
                    if isinstance(e, Exception):
                        raise e
            raise response

        # EXEC ends every WATCH
        self.watching = False
        if response is None:
            raise WatchError("Watched variable changed.")

        for i, e in errors:
            response.insert(i, e)
        if len(response) != len(commands):
            self.connection.disconnect()
            raise ResponseError("Wrong number of response items from pipeline execution")

        if raise_on_error:
            self.raise_first_error(commands, response)

        lookup = _CallbackLookup(self.response_callbacks)
        data = []
        append = data.append
        for r, (args, options) in zip(response, commands):
            if not isinstance(r, Exception):
                cb = lookup[args[0]]
                if cb is not None:
                    r = cb(r, **_callback_options(options)) if options else cb(r)
            append(r)
        return data

    def _execute_pipeline(self, connection: Any, commands: CommandStack,
                          raise_on_error: bool) -> List[Any]:
        if not self._use_fast_path(connection):
            connection.send_packed_command(connection.pack_commands([args for args, _ in commands]))
            responses = []
            for args, options in commands:
                try:
                    responses.append(self.parse_response(connection, args[0], **options))
                except ResponseError as e:
                    responses.append(e)
        else:
            replies = connection._execute_pipeline(commands)
            lookup = _CallbackLookup(self.response_callbacks)
            responses = []
            append = responses.append
            failed = False
            for reply, (args, options) in zip(replies, commands):
                name = args[0]
                if isinstance(reply, Exception):
                    if not isinstance(reply, ResponseError):
                        raise reply
                    if EMPTY_RESPONSE in options:
                        reply = options[EMPTY_RESPONSE]
                    else:
                        failed = True
                else:
                    cb = lookup[name]
                    if cb is not None:
                        reply = cb(reply, **_callback_options(options)) if options else cb(reply)
                    if name in _WATCH_STATE_COMMANDS:
                        self.watching = name == "WATCH"
                append(reply)
            if not failed:
                return responses

        if raise_on_error:
            self.raise_first_error(commands, responses)
        return responses

    def load_scripts(self) -> None:
        """Make sure the server knows every script queued on this pipeline
        (SCRIPT EXISTS, then SCRIPT LOAD for the missing ones)."""
        scripts = list(self.scripts)
        immediate = self.immediate_execute_command
        shas = [s.sha for s in scripts]
        # immediate: the script_* command methods would only be queued
        exists = immediate("SCRIPT EXISTS", *shas)
        if not all(exists):
            for s, exist in zip(scripts, exists):
                if not exist:
                    s.sha = immediate("SCRIPT LOAD", s.script)

    def _disconnect_raise_on_watching(self, conn: Any, error: Exception,
                                      failure_count: Optional[int] = None,
                                      start_time: Optional[float] = None,
                                      command_name: Optional[str] = None) -> None:
        """Retry hook of :meth:`execute`: drop the connection; raise WatchError
        if keys were being watched (the WATCH died with the connection)."""
        conn.disconnect()
        if self.watching:
            raise WatchError(
                f"A {type(error).__name__} occurred while watching one or more keys"
            )

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        """Send the queued commands and return their results, in order.

        The connection goes back to the pool afterwards and the pipeline is
        empty again (reusable).  Connection errors are retried per the
        connection's ``retry`` (the whole block is sent again), except while
        watching, where WatchError is raised.
        """
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        if self.scripts:
            self.load_scripts()
        if self.transaction or self.explicit_transaction:
            execute: Callable[[Any, CommandStack, bool], List[Any]] = self._execute_transaction
        else:
            execute = self._execute_pipeline

        conn = self.connection
        if not conn:
            conn = self.connection_pool.get_connection()
            # reset() gives it back to the pool
            self.connection = conn

        def failure(error: Exception, failure_count: int) -> None:
            self._disconnect_raise_on_watching(conn, error, failure_count)

        try:
            return conn.retry.call_with_retry(
                lambda: execute(conn, stack, raise_on_error),
                failure,
                with_failure_count=True,
            )
        finally:
            self.reset()

    def discard(self) -> None:
        """Drop the commands of the transaction (DISCARD).

        For more information, see https://redis.io/commands/discard
        """
        self.execute_command("DISCARD")

    def watch(self, *names: Any) -> Any:
        """WATCH ``names``: a later EXEC fails if any of them changes first."""
        if self.explicit_transaction:
            raise RedisError("Cannot issue a WATCH after a MULTI")
        return self.execute_command("WATCH", *names)

    def unwatch(self) -> bool:
        """Stop watching all keys (UNWATCH, only sent while watching)."""
        return self.watching and self.execute_command("UNWATCH") or True


_native._declare_builtin(Pipeline)
