"""Backoff policies: how long to wait before the next attempt of a failed operation.

A policy is asked for a delay through :meth:`AbstractBackoff.compute`, with the
number of failures seen so far in the current operation (1 for the first
failure).  :class:`~redis_native.retry.Retry` calls :meth:`AbstractBackoff.reset`
once before each operation, so stateful policies can start afresh.

The classes, their constructor arguments, their defaults and the delays they
produce are those of redis-py 7.4 (``redis.backoff``).  Policies compare equal
when they are of the same kind and hold the same parameters, and they hash
accordingly, because clients copy and compare their retry settings.
"""
from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import Any, Hashable, Tuple

__all__ = [
    "DEFAULT_CAP",
    "DEFAULT_BASE",
    "AbstractBackoff",
    "ConstantBackoff",
    "NoBackoff",
    "ExponentialBackoff",
    "FullJitterBackoff",
    "EqualJitterBackoff",
    "DecorrelatedJitterBackoff",
    "ExponentialWithJitterBackoff",
    "default_backoff",
]

#: Upper bound, in seconds, of the delay produced by the growing policies.
DEFAULT_CAP: float = 0.512
#: Starting delay, in seconds, of the growing policies.
DEFAULT_BASE: float = 0.008


class AbstractBackoff(ABC):
    """Interface every backoff policy implements."""

    def reset(self) -> None:
        """Forget any state kept from earlier failures.

        Called once at the start of every retried operation.  Stateless
        policies have nothing to do here.
        """

    @abstractmethod
    def compute(self, failures: int) -> float:
        """Return the number of seconds to wait after ``failures`` failures."""


class ConstantBackoff(AbstractBackoff):
    """Wait the same fixed time after every failure."""

    def __init__(self, backoff: float) -> None:
        """``backoff`` is the delay in seconds returned for every failure."""
        self._backoff = backoff

    def __hash__(self) -> int:
        return hash((self._backoff,))

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, ConstantBackoff):
            return self._backoff == other._backoff
        return NotImplemented

    def compute(self, failures: int) -> float:
        return self._backoff


class NoBackoff(ConstantBackoff):
    """Retry at once: a constant delay of zero."""

    def __init__(self) -> None:
        super().__init__(0)


class _CappedBackoff(AbstractBackoff):
    """Shared state of the policies driven by a ``base`` delay and a ``cap``.

    Equality is per concrete policy kind (``eq_kind``): two policies of the same
    kind with equal ``base`` and ``cap`` compare equal.
    """

    _eq_kind: type = AbstractBackoff

    def __init__(self, cap: float = DEFAULT_CAP, base: float = DEFAULT_BASE) -> None:
        """``cap``: longest delay in seconds; ``base``: delay unit in seconds."""
        self._cap = cap
        self._base = base

    def _key(self) -> Tuple[Hashable, ...]:
        return (self._base, self._cap)

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, self._eq_kind):
            return self._base == other._base and self._cap == other._cap
        return NotImplemented

    def _ceiling(self, failures: int) -> float:
        """``base * 2**failures``, bounded by ``cap``."""
        return min(self._cap, self._base * 2**failures)


class ExponentialBackoff(_CappedBackoff):
    """Double the delay after each failure, up to ``cap``."""

    def compute(self, failures: int) -> float:
        return self._ceiling(failures)


ExponentialBackoff._eq_kind = ExponentialBackoff


class FullJitterBackoff(_CappedBackoff):
    """A uniformly random delay between 0 and the exponential ceiling."""

    def compute(self, failures: int) -> float:
        return random.uniform(0, self._ceiling(failures))


FullJitterBackoff._eq_kind = FullJitterBackoff


class EqualJitterBackoff(_CappedBackoff):
    """Half of the exponential ceiling, plus a random share of the other half."""

    def compute(self, failures: int) -> float:
        half = self._ceiling(failures) / 2
        return half + random.uniform(0, half)


EqualJitterBackoff._eq_kind = EqualJitterBackoff


class DecorrelatedJitterBackoff(_CappedBackoff):
    """A random delay drawn from ``[base, 3 * previous delay]``, capped.

    The previous delay is remembered between failures of one operation and
    cleared by :meth:`reset`.
    """

    def __init__(self, cap: float = DEFAULT_CAP, base: float = DEFAULT_BASE) -> None:
        super().__init__(cap, base)
        self._previous_backoff: float = 0

    def reset(self) -> None:
        self._previous_backoff = 0

    def compute(self, failures: int) -> float:
        upper = max(self._base, 3 * self._previous_backoff)
        drawn = random.uniform(self._base, upper)
        self._previous_backoff = min(self._cap, drawn)
        return self._previous_backoff


DecorrelatedJitterBackoff._eq_kind = DecorrelatedJitterBackoff


class ExponentialWithJitterBackoff(_CappedBackoff):
    """The exponential delay scaled by a random factor in ``[0, 1)``, capped."""

    def compute(self, failures: int) -> float:
        return min(self._cap, random.random() * self._base * 2**failures)


ExponentialWithJitterBackoff._eq_kind = ExponentialWithJitterBackoff


def default_backoff() -> AbstractBackoff:
    """Return the policy clients use when none is given: equal jitter, default bounds."""
    return EqualJitterBackoff()
