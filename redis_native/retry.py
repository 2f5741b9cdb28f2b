"""Retry policies: run an operation again when it fails with a transient error.

:class:`Retry` pairs a backoff policy (see :mod:`redis_native.backoff`) with a
maximum number of retries and the exception classes that count as transient.
Its behaviour, signatures and defaults follow redis-py 7.4 (``redis.retry``).

Contract with the C core: the native dispatcher runs its own copy of the retry
loop for speed and reads three attributes of a :class:`Retry` directly:

* ``_retries`` -- an ``int``; negative means "retry forever";
* ``_supported_errors`` -- a ``tuple`` of exception classes;
* ``_backoff`` -- an object with ``compute(failures) -> float`` and ``reset()``.

These names and types must not change.
"""
from __future__ import annotations

import abc
import copy
import socket
from time import sleep
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Generic,
    Iterable,
    Optional,
    Tuple,
    Type,
    TypeVar,
    Union,
)

from redis_native import backoff as _b
from redis_native._native import _copy_plain_retry
from redis_native.exceptions import ConnectionError, TimeoutError

if TYPE_CHECKING:
    from redis_native.backoff import AbstractBackoff

__all__ = ["AbstractRetry", "Retry"]

T = TypeVar("T")
E = TypeVar("E", bound=Exception, covariant=True)


class AbstractRetry(Generic[E], abc.ABC):
    """Common state of retry policies: a backoff, a retry budget, the retried errors.

    ``retries`` is the number of extra attempts made after the first failure;
    a negative value retries without limit.  ``supported_errors`` lists the
    exception classes that trigger a retry; anything else propagates at once.
    """

    _supported_errors: Tuple[Type[E], ...]

    def __init__(
        self,
        backoff: "AbstractBackoff",
        retries: int,
        supported_errors: Tuple[Type[E], ...],
    ) -> None:
        self._backoff = backoff
        self._retries = retries
        self._supported_errors = supported_errors

    @abc.abstractmethod
    def __eq__(self, other: Any) -> bool:
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._backoff, self._retries, frozenset(self._supported_errors)))

    def update_supported_errors(self, specified_errors: Iterable[Type[E]]) -> None:
        """Add ``specified_errors`` to the retried exception classes (duplicates dropped)."""
        merged = set(self._supported_errors)
        merged.update(specified_errors)
        self._supported_errors = tuple(merged)

    def get_retries(self) -> int:
        """Return the retry budget (negative: unlimited)."""
        return self._retries

    def update_retries(self, value: int) -> None:
        """Replace the retry budget with ``value`` (negative: unlimited)."""
        self._retries = value


class Retry(AbstractRetry[Exception]):
    """Synchronous retry policy used by clients, pools and connections.

    By default connection failures and timeouts (``redis_native`` ones as well
    as :class:`socket.timeout`) are retried.
    """

    def __init__(
        self,
        backoff: "AbstractBackoff",
        retries: int,
        supported_errors: Tuple[Type[Exception], ...] = (
            ConnectionError,
            TimeoutError,
            socket.timeout,
        ),
    ) -> None:
        super().__init__(backoff, retries, supported_errors)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Retry):
            return NotImplemented
        return (
            self._backoff == other._backoff
            and self._retries == other._retries
            and set(self._supported_errors) == set(other._supported_errors)
        )

    __hash__ = AbstractRetry.__hash__

    def call_with_retry(
        self,
        do: Callable[[], T],
        fail: Union[Callable[[Exception], Any], Callable[[Exception, int], Any]],
        is_retryable: Optional[Callable[[Exception], bool]] = None,
        with_failure_count: bool = False,
    ) -> T:
        """Call ``do()`` until it succeeds or the retry budget is spent.

        The backoff is reset first.  When ``do`` raises one of the retried
        exception classes:

        * if ``is_retryable`` is given and returns false for the error, the
          error propagates immediately, without calling ``fail``;
        * otherwise the failure is counted and ``fail(error)`` is called
          (``fail(error, failures)`` when ``with_failure_count`` is true);
        * if the budget is exhausted (``failures > retries`` with a
          non-negative budget) the error is raised;
        * otherwise the thread sleeps for the backoff delay, when positive,
          and ``do`` is called again.

        Returns whatever ``do`` returns.
        """
        self._backoff.reset()
        failures = 0
        while True:
            try:
                return do()
            except self._supported_errors as error:
                if is_retryable and not is_retryable(error):
                    raise
                failures += 1
                if with_failure_count:
                    fail(error, failures)  # type: ignore[call-arg]
                else:
                    fail(error)  # type: ignore[call-arg]
                if self._retries >= 0 and failures > self._retries:
                    raise error
                delay = self._backoff.compute(failures)
                if delay > 0:
                    sleep(delay)


# -- copying ------------------------------------------------------------------
_ATOMIC_TYPES = frozenset((int, float, bool, str, bytes, type(None)))


_BACKOFF_TYPES = frozenset((_b.ConstantBackoff, _b.NoBackoff, _b.ExponentialBackoff,
                            _b.FullJitterBackoff, _b.EqualJitterBackoff,
                            _b.DecorrelatedJitterBackoff, _b.ExponentialWithJitterBackoff))


def copy_retry(retry: Any) -> Any:
    """``copy.deepcopy(retry)``, without the generic machinery for the usual case.

    Clients and connections take their own copy of the Retry they are given
    (as redis-py does).  A plain :class:`Retry` holding one of this package's
    backoff classes, whose state is numbers and a tuple of exception classes,
    is copied field by field in C (``_native._copy_plain_retry``): the same
    result as ``deepcopy`` (a new Retry and a new backoff, the tuple and the
    numbers shared since they are immutable) at a fraction of the cost.
    Anything else (subclasses, other backoffs, extra attributes) goes through
    ``copy.deepcopy``.
    """
    new = _copy_plain_retry(retry, Retry, _BACKOFF_TYPES, _ATOMIC_TYPES)
    if new is not None:
        return new
    return copy.deepcopy(retry)
