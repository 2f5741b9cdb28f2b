"""Routing policies of commands, as ``redis.commands.policies``.

A policy resolver answers ``resolve(command_name)`` with the
:class:`~redis_native._parsers.commands.CommandPolicies` of a command, or
None; RedisCluster asks it first, before its own per-command routing table.
:class:`StaticPolicyResolver` (RedisCluster's default) knows the same fixed
table as redis-py 7.4.1 (``STATIC_POLICIES``: the RediSearch commands and
``COMMAND``); :class:`DynamicPolicyResolver` builds its table from the
server's COMMAND tips.  A resolver can chain to a fallback.
"""

from __future__ import annotations
from abc import ABC, abstractmethod
from typing import Optional

from .._parsers.commands import (
    CommandPolicies,
    CommandsParser,
    PolicyRecords,
    RequestPolicy,
    ResponsePolicy,
)

__all__ = ["STATIC_POLICIES", "PolicyResolver", "BasePolicyResolver",
           "DynamicPolicyResolver", "StaticPolicyResolver", "AsyncPolicyResolver",
           "AsyncBasePolicyResolver", "AsyncDynamicPolicyResolver",
           "AsyncStaticPolicyResolver"]


def _policies(request: RequestPolicy, response: ResponsePolicy) -> CommandPolicies:
    return CommandPolicies(request_policy=request, response_policy=response)


_KEYLESS = (RequestPolicy.DEFAULT_KEYLESS, ResponsePolicy.DEFAULT_KEYLESS)
_KEYED = (RequestPolicy.DEFAULT_KEYED, ResponsePolicy.DEFAULT_KEYED)

# RediSearch commands by kind of routing, as redis-py 7.4.1 lists them
_FT_KEYLESS = ("explaincli", "profile", "dropindex", "aliasupdate", "alter", "aggregate",
               "syndump", "create", "explain", "dictdel", "aliasadd", "dictadd", "synupdate",
               "drop", "info", "dictdump", "search", "tagvals", "aliasdel", "spellcheck")
_FT_KEYED = ("suglen", "sugget", "sugadd", "sugdel")

STATIC_POLICIES: PolicyRecords = {
    "ft": {
        **{name: _policies(*_KEYLESS) for name in _FT_KEYLESS},
        **{name: _policies(*_KEYED) for name in _FT_KEYED},
        "cursor": _policies(RequestPolicy.SPECIAL, ResponsePolicy.DEFAULT_KEYLESS),
    },
    "core": {
        "command": _policies(*_KEYLESS),
    },
}


class PolicyResolver(ABC):
    """Finds the policies of a command by name."""

    @abstractmethod
    def resolve(self, command_name: str) -> Optional[CommandPolicies]:
        """The policies of ``command_name`` (``"get"``, ``"ft.search"``), or None."""

    @abstractmethod
    def with_fallback(self, fallback: "PolicyResolver") -> "PolicyResolver":
        """A resolver like this one that asks ``fallback`` about unknown names."""


class BasePolicyResolver(PolicyResolver):
    """A resolver over a :data:`PolicyRecords` table, with an optional fallback."""

    def __init__(self, policies: PolicyRecords,
                 fallback: Optional[PolicyResolver] = None) -> None:
        self._policies = policies
        self._fallback = fallback

    def resolve(self, command_name: str) -> Optional[CommandPolicies]:
        parts = command_name.split(".")
        if len(parts) > 2:
            raise ValueError(f"Wrong command or module name: {command_name}")
        module, command = parts if len(parts) == 2 else ("core", parts[0])
        found = self._policies.get(module, {}).get(command)
        if found is None and self._fallback is not None:
            return self._fallback.resolve(command_name)
        return found

    @abstractmethod
    def with_fallback(self, fallback: PolicyResolver) -> PolicyResolver:
        pass


class DynamicPolicyResolver(BasePolicyResolver):
    """Policies from the server's COMMAND output (its routing tips)."""

    def __init__(self, commands_parser: CommandsParser,
                 fallback: Optional[PolicyResolver] = None) -> None:
        self._commands_parser = commands_parser
        super().__init__(commands_parser.get_command_policies(), fallback)

    def with_fallback(self, fallback: PolicyResolver) -> PolicyResolver:
        return DynamicPolicyResolver(self._commands_parser, fallback)


class StaticPolicyResolver(BasePolicyResolver):
    """Policies from :data:`STATIC_POLICIES`."""

    def __init__(self, fallback: Optional[PolicyResolver] = None) -> None:
        super().__init__(STATIC_POLICIES, fallback)

    def with_fallback(self, fallback: PolicyResolver) -> PolicyResolver:
        return StaticPolicyResolver(fallback)


class AsyncPolicyResolver(ABC):
    """Finds the policies of a command by name (``await resolve(name)``),
    for the asyncio cluster client."""

    @abstractmethod
    async def resolve(self, command_name: str) -> Optional[CommandPolicies]:
        """The policies of ``command_name``, or None."""

    @abstractmethod
    def with_fallback(self, fallback: "AsyncPolicyResolver") -> "AsyncPolicyResolver":
        """A resolver like this one that asks ``fallback`` about unknown names."""


class AsyncBasePolicyResolver(AsyncPolicyResolver):
    """An asyncio resolver over a :data:`PolicyRecords` table, with an
    optional fallback."""

    def __init__(self, policies: PolicyRecords,
                 fallback: Optional[AsyncPolicyResolver] = None) -> None:
        self._policies = policies
        self._fallback = fallback

    async def resolve(self, command_name: str) -> Optional[CommandPolicies]:
        parts = command_name.split(".")
        if len(parts) > 2:
            raise ValueError(f"Wrong command or module name: {command_name}")
        module, command = parts if len(parts) == 2 else ("core", parts[0])
        found = self._policies.get(module, {}).get(command)
        if found is None and self._fallback is not None:
            return await self._fallback.resolve(command_name)
        return found

    @abstractmethod
    def with_fallback(self, fallback: AsyncPolicyResolver) -> AsyncPolicyResolver:
        pass


class AsyncDynamicPolicyResolver(AsyncBasePolicyResolver):
    """Policies from records built from the server's COMMAND tips."""

    def __init__(self, policy_records: PolicyRecords,
                 fallback: Optional[AsyncPolicyResolver] = None) -> None:
        super().__init__(policy_records, fallback)

    def with_fallback(self, fallback: AsyncPolicyResolver) -> AsyncPolicyResolver:
        return AsyncDynamicPolicyResolver(self._policies, fallback)


class AsyncStaticPolicyResolver(AsyncBasePolicyResolver):
    """Policies from :data:`STATIC_POLICIES` (the asyncio cluster's default)."""

    def __init__(self, fallback: Optional[AsyncPolicyResolver] = None) -> None:
        super().__init__(STATIC_POLICIES, fallback)

    def with_fallback(self, fallback: AsyncPolicyResolver) -> AsyncPolicyResolver:
        return AsyncStaticPolicyResolver(fallback)
