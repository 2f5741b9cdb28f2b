"""Lua scripts (redis-py's ``ScriptCommands`` and ``Script``) and Redis
functions (``FunctionCommands``)."""

from __future__ import annotations

from typing import Any, Iterable, List, Literal, Optional, Sequence, Union

from ..exceptions import DataError, NoScriptError
from ._types import EncodableT, KeyT, ResponseT, ScriptTextT
from .helpers import NEVER_DECODE


def _sha1_hex(script: bytes) -> str:
    # hashlib is loaded by the first Script, not by ``import redis_native``
    import hashlib

    return hashlib.sha1(script).hexdigest()


__all__ = ["Script", "ScriptCommands", "FunctionCommands", "AsyncScript", "AsyncScriptCommands"]


class Script:
    """A Lua script bound to a client, returned by
    :meth:`ScriptCommands.register_script`.

    Calling it runs the script with EVALSHA, loading it first (SCRIPT LOAD)
    when the server does not know it yet.
    """

    def __init__(self, registered_client: Any, script: ScriptTextT):
        self.registered_client = registered_client
        self.script = script
        if isinstance(script, str):
            # hash the bytes the server will see, i.e. encoded the way the
            # client encodes arguments
            script = self.get_encoder().encode(script)
        self.sha = _sha1_hex(script)

    def __call__(
        self,
        keys: Union[Sequence[KeyT], None] = None,
        args: Union[Iterable[EncodableT], None] = None,
        client: Any = None,
    ) -> Any:
        """Run the script with ``keys`` and ``args`` on ``client`` (by
        default the client it was registered with; a pipeline is allowed)."""
        keys = keys or []
        args = args or []
        if client is None:
            client = self.registered_client
        arguments = tuple(keys) + tuple(args)
        # A pipeline (the client type with a ``scripts`` set) loads the
        # scripts queued on it before it runs its commands.  Duck-typed: this
        # module sits below redis_native.client and does not import it.
        scripts = getattr(client, "scripts", None)
        if isinstance(scripts, set):
            scripts.add(self)
        try:
            return client.evalsha(self.sha, len(keys), *arguments)
        except NoScriptError:
            # the server lost the script (restart, SCRIPT FLUSH, another
            # node): load it again and retry once
            self.sha = client.script_load(self.script)
            return client.evalsha(self.sha, len(keys), *arguments)

    def get_encoder(self) -> Any:
        """The encoder of the registered client (or of its pool, for client
        objects without ``get_encoder``)."""
        try:
            return self.registered_client.get_encoder()
        except AttributeError:
            return self.registered_client.connection_pool.get_encoder()


class ScriptCommands:
    """Lua scripting (https://redis.io/docs/interact/programmability/eval-intro/)."""

    def _eval(
        self, command: str, script: str, numkeys: int, *keys_and_args: Union[KeyT, EncodableT]
    ) -> ResponseT:
        return self.execute_command(command, script, numkeys, *keys_and_args)

    def eval(self, script: str, numkeys: int, *keys_and_args: Union[KeyT, EncodableT]) -> ResponseT:
        """Run the Lua ``script``; the first ``numkeys`` of ``keys_and_args``
        are key names, the rest arguments.  :meth:`register_script` is
        usually more convenient.

        For more information, see https://redis.io/commands/eval
        """
        return self._eval("EVAL", script, numkeys, *keys_and_args)

    def eval_ro(self, script: str, numkeys: int, *keys_and_args: Union[KeyT, EncodableT]) -> ResponseT:
        """Read-only :meth:`eval` (the script may not write).

        For more information, see https://redis.io/commands/eval_ro
        """
        return self._eval("EVAL_RO", script, numkeys, *keys_and_args)

    def _evalsha(
        self, command: str, sha: str, numkeys: int, *keys_and_args: Union[KeyT, EncodableT]
    ) -> ResponseT:
        return self.execute_command(command, sha, numkeys, *keys_and_args)

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Union[KeyT, EncodableT]) -> ResponseT:
        """Run the cached script whose SHA1 is ``sha`` (see :meth:`eval` for
        ``numkeys``); raises NoScriptError when the server does not have it.

        For more information, see https://redis.io/commands/evalsha
        """
        return self._evalsha("EVALSHA", sha, numkeys, *keys_and_args)

    def evalsha_ro(self, sha: str, numkeys: int, *keys_and_args: Union[KeyT, EncodableT]) -> ResponseT:
        """Read-only :meth:`evalsha`.

        For more information, see https://redis.io/commands/evalsha_ro
        """
        return self._evalsha("EVALSHA_RO", sha, numkeys, *keys_and_args)

    def script_exists(self, *args: str) -> ResponseT:
        """For each SHA1 in ``args``, whether the script cache holds it.

        For more information, see https://redis.io/commands/script-exists
        """
        return self.execute_command("SCRIPT EXISTS", *args)

    def script_debug(self, *args: Any) -> None:
        """Not supported by the client. (redis-py raises the same
        NotImplementedError.)

        For more information, see https://redis.io/commands/script-debug
        """
        raise NotImplementedError(
            "SCRIPT DEBUG is intentionally not implemented in the client."
        )

    def script_flush(self, sync_type: Union[Literal["SYNC"], Literal["ASYNC"]] = None) -> ResponseT:
        """Empty the script cache, synchronously (``"SYNC"``) or in the
        background (``"ASYNC"``); None uses the server default.

        For more information, see https://redis.io/commands/script-flush
        """
        if sync_type not in ("SYNC", "ASYNC", None):
            raise DataError(
                "SCRIPT FLUSH defaults to SYNC in redis > 6.2, or "
                "accepts SYNC/ASYNC. For older versions, "
                "of redis leave as None."
            )
        if sync_type is None:
            return self.execute_command("SCRIPT FLUSH")
        return self.execute_command("SCRIPT FLUSH", sync_type)

    def script_kill(self) -> ResponseT:
        """Stop the running script (only if it has not written anything).

        For more information, see https://redis.io/commands/script-kill
        """
        return self.execute_command("SCRIPT KILL")

    def script_load(self, script: ScriptTextT) -> ResponseT:
        """Add ``script`` to the script cache; return its SHA1 as ``str``.

        For more information, see https://redis.io/commands/script-load
        """
        return self.execute_command("SCRIPT LOAD", script)

    def register_script(self, script: ScriptTextT) -> Script:
        """Return a callable :class:`Script` for ``script`` that takes care
        of loading and calling it by SHA1."""
        return Script(self, script)


class FunctionCommands:
    """Redis functions (https://redis.io/docs/interact/programmability/functions-intro/)."""

    def function_load(self, code: str, replace: Optional[bool] = False) -> ResponseT:
        """Load the library ``code`` (starting with a ``#!lua name=...``
        line), replacing a library of the same name when ``replace``.
        Returns the library name.

        For more information, see https://redis.io/commands/function-load
        """
        if replace:
            return self.execute_command("FUNCTION LOAD", "REPLACE", code)
        return self.execute_command("FUNCTION LOAD", code)

    def function_delete(self, library: str) -> ResponseT:
        """Delete the library ``library`` and its functions.

        For more information, see https://redis.io/commands/function-delete
        """
        return self.execute_command("FUNCTION DELETE", library)

    def function_flush(self, mode: str = "SYNC") -> ResponseT:
        """Delete every library (``mode``: SYNC or ASYNC).

        For more information, see https://redis.io/commands/function-flush
        """
        return self.execute_command("FUNCTION FLUSH", mode)

    def function_list(self, library: Optional[str] = "*", withcode: Optional[bool] = False) -> ResponseT:
        """Describe the libraries whose name matches ``library``, with their
        source when ``withcode``.

        For more information, see https://redis.io/commands/function-list
        """
        args: List[Any] = ["LIBRARYNAME", library]
        if withcode:
            args.append("WITHCODE")
        return self.execute_command("FUNCTION LIST", *args)

    def _fcall(self, command: str, function: Any, numkeys: int, *keys_and_args: Any) -> ResponseT:
        return self.execute_command(command, function, numkeys, *keys_and_args)

    def fcall(self, function: Any, numkeys: int, *keys_and_args: Any) -> ResponseT:
        """Call ``function``; the first ``numkeys`` of ``keys_and_args`` are
        key names, the rest arguments.

        For more information, see https://redis.io/commands/fcall
        """
        return self._fcall("FCALL", function, numkeys, *keys_and_args)

    def fcall_ro(self, function: Any, numkeys: int, *keys_and_args: Any) -> ResponseT:
        """Read-only :meth:`fcall`.

        For more information, see https://redis.io/commands/fcall_ro
        """
        return self._fcall("FCALL_RO", function, numkeys, *keys_and_args)

    def function_dump(self) -> ResponseT:
        """Return the serialized libraries as bytes (never decoded).

        For more information, see https://redis.io/commands/function-dump
        """
        return self.execute_command("FUNCTION DUMP", **{NEVER_DECODE: []})

    def function_restore(self, payload: str, policy: Optional[str] = "APPEND") -> ResponseT:
        """Restore libraries from a :meth:`function_dump` ``payload``;
        ``policy`` is APPEND, REPLACE or FLUSH.

        For more information, see https://redis.io/commands/function-restore
        """
        return self.execute_command("FUNCTION RESTORE", payload, policy)

    def function_kill(self) -> ResponseT:
        """Stop the running function (only if it has not written anything).

        For more information, see https://redis.io/commands/function-kill
        """
        return self.execute_command("FUNCTION KILL")

    def function_stats(self) -> ResponseT:
        """Return information about the running function and the engines.

        For more information, see https://redis.io/commands/function-stats
        """
        return self.execute_command("FUNCTION STATS")


class AsyncScript:
    """A Lua script bound to an asyncio client, returned by
    :meth:`AsyncScriptCommands.register_script`; awaiting a call runs it with
    EVALSHA, loading it first when the server does not know it."""

    def __init__(self, registered_client: Any, script: ScriptTextT):
        self.registered_client = registered_client
        self.script = script
        if isinstance(script, str):
            try:
                encoder = registered_client.connection_pool.get_encoder()
            except AttributeError:
                encoder = registered_client.get_encoder()
            script = encoder.encode(script)
        self.sha = _sha1_hex(script)

    async def __call__(
        self,
        keys: Union[Sequence[KeyT], None] = None,
        args: Union[Iterable[EncodableT], None] = None,
        client: Any = None,
    ) -> Any:
        """Run the script with ``keys`` and ``args`` on ``client`` (by default
        the registered client; a pipeline queues it and loads it at execute)."""
        keys = keys or []
        args = args or []
        if client is None:
            client = self.registered_client
        arguments = tuple(keys) + tuple(args)
        scripts = getattr(client, "scripts", None)
        if isinstance(scripts, set):
            scripts.add(self)
        try:
            return await client.evalsha(self.sha, len(keys), *arguments)
        except NoScriptError:
            self.sha = await client.script_load(self.script)
            return await client.evalsha(self.sha, len(keys), *arguments)


class AsyncScriptCommands(ScriptCommands):
    """ScriptCommands for the asyncio client: ``register_script`` gives an
    :class:`AsyncScript`."""

    async def script_debug(self, *args: Any) -> None:
        """Not supported by the client (raises NotImplementedError, as redis-py)."""
        return super().script_debug()

    def register_script(self, script: ScriptTextT) -> AsyncScript:
        """Return an awaitable-callable :class:`AsyncScript` for ``script``."""
        return AsyncScript(self, script)
