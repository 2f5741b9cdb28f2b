"""Commands understood by Redis Sentinel processes (redis-py's
``SentinelCommands``, mixed into ``Redis`` so that a client connected to a
sentinel can query it)."""

from __future__ import annotations

import warnings
from typing import Any

from ._types import ResponseT

__all__ = ["SentinelCommands", "AsyncSentinelCommands"]


class SentinelCommands:
    """SENTINEL subcommands (https://redis.io/docs/management/sentinel/).

    ``once`` and ``return_responses`` are options for the ``Sentinel``
    manager, which sends some commands to several sentinels; on a plain
    client they only reach the response callback.
    """

    def sentinel(self, *args: Any) -> None:
        """Deprecated: only warns.  Use the ``sentinel_*`` methods."""
        warnings.warn(DeprecationWarning("Use the individual sentinel_* methods"))

    def sentinel_get_master_addr_by_name(self, service_name: str, return_responses: bool = False) -> ResponseT:
        """Return the ``(host, port)`` of the current master of
        ``service_name`` (None if unknown).

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command(
            "SENTINEL GET-MASTER-ADDR-BY-NAME",
            service_name,
            once=True,
            return_responses=return_responses,
        )

    def sentinel_master(self, service_name: str, return_responses: bool = False) -> ResponseT:
        """Return the state of master ``service_name`` as a dict.

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command(
            "SENTINEL MASTER", service_name, return_responses=return_responses
        )

    def sentinel_masters(self) -> ResponseT:
        """Return ``{name: state}`` for every monitored master.

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command("SENTINEL MASTERS")

    def sentinel_monitor(self, name: str, ip: str, port: int, quorum: int) -> ResponseT:
        """Start monitoring the master ``name`` at ``ip``:``port`` with the
        given ``quorum``.

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command("SENTINEL MONITOR", name, ip, port, quorum)

    def sentinel_remove(self, name: str) -> ResponseT:
        """Stop monitoring the master ``name``.

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command("SENTINEL REMOVE", name)

    def sentinel_sentinels(self, service_name: str, return_responses: bool = False) -> ResponseT:
        """Return the state of the other sentinels watching ``service_name``.

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command(
            "SENTINEL SENTINELS", service_name, return_responses=return_responses
        )

    def sentinel_set(self, name: str, option: str, value: Any) -> ResponseT:
        """Change the monitoring parameter ``option`` of master ``name``.

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command("SENTINEL SET", name, option, value)

    def sentinel_slaves(self, service_name: str) -> ResponseT:
        """Return the state of the replicas of ``service_name``.

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command("SENTINEL SLAVES", service_name)

    def sentinel_reset(self, pattern: str) -> ResponseT:
        """Forget the state (replicas, sentinels, failover in progress) of
        every master whose name matches the glob ``pattern``.

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command("SENTINEL RESET", pattern, once=True)

    def sentinel_failover(self, new_master_name: str) -> ResponseT:
        """Force a failover of ``new_master_name`` without asking the other
        sentinels.

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command("SENTINEL FAILOVER", new_master_name)

    def sentinel_ckquorum(self, new_master_name: str) -> ResponseT:
        """Check that the sentinels can reach the quorum and majority needed
        to fail over ``new_master_name``.

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command("SENTINEL CKQUORUM", new_master_name, once=True)

    def sentinel_flushconfig(self) -> ResponseT:
        """Make the sentinel rewrite its configuration file.

        For more information, see https://redis.io/docs/management/sentinel/
        """
        return self.execute_command("SENTINEL FLUSHCONFIG")


class AsyncSentinelCommands(SentinelCommands):
    """SentinelCommands for the asyncio client."""

    async def sentinel(self, *args: Any) -> None:
        """Deprecated: only warns.  Use the ``sentinel_*`` methods."""
        super().sentinel(*args)
