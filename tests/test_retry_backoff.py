"""Tests of redis_native.retry and redis_native.backoff, with redis-py as the oracle."""
from __future__ import annotations

import copy
import pickle
import random
import socket
from typing import Any, Callable, List, Optional, Tuple
from unittest import mock

import pytest
import redis.backoff as oracle_backoff
import redis.exceptions as oracle_exceptions
import redis.retry as oracle_retry

from redis_native import backoff, exceptions, retry
from redis_native.backoff import (
    AbstractBackoff,
    ConstantBackoff,
    DecorrelatedJitterBackoff,
    EqualJitterBackoff,
    ExponentialBackoff,
    ExponentialWithJitterBackoff,
    FullJitterBackoff,
    NoBackoff,
    default_backoff,
)
from redis_native.retry import AbstractRetry, Retry

JITTER_CLASSES = [
    "ExponentialBackoff",
    "FullJitterBackoff",
    "EqualJitterBackoff",
    "DecorrelatedJitterBackoff",
    "ExponentialWithJitterBackoff",
]


# --------------------------------------------------------------------- backoff


def test_module_constants() -> None:
    assert backoff.DEFAULT_CAP == oracle_backoff.DEFAULT_CAP
    assert backoff.DEFAULT_BASE == oracle_backoff.DEFAULT_BASE


def test_abstract_backoff_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError):
        AbstractBackoff()  # type: ignore[abstract]

    class Mine(AbstractBackoff):
        def compute(self, failures: int) -> float:
            return 1.0

    mine = Mine()
    assert mine.reset() is None
    assert mine.compute(3) == 1.0


def test_constant_and_no_backoff() -> None:
    assert ConstantBackoff(0.25).compute(1) == 0.25
    assert ConstantBackoff(0.25).compute(100) == 0.25
    assert NoBackoff().compute(5) == 0
    assert NoBackoff() == ConstantBackoff(0)
    assert hash(NoBackoff()) == hash(ConstantBackoff(0))
    assert ConstantBackoff(1) != ConstantBackoff(2)


def test_exponential_values() -> None:
    b = ExponentialBackoff(cap=1.0, base=0.1)
    assert [b.compute(n) for n in range(6)] == [
        min(1.0, 0.1 * 2**n) for n in range(6)
    ]
    assert ExponentialBackoff().compute(20) == backoff.DEFAULT_CAP


@pytest.mark.parametrize("name", JITTER_CLASSES)
@pytest.mark.parametrize("params", [{}, {"cap": 2.0, "base": 0.05}, {"cap": 0.01}])
def test_backoff_values_match_redis_py_with_same_seed(
    name: str, params: dict
) -> None:
    ours = getattr(backoff, name)(**params)
    theirs = getattr(oracle_backoff, name)(**params)
    for seed in range(5):
        ours.reset()
        theirs.reset()
        random.seed(seed)
        ours_values = [ours.compute(n) for n in range(1, 12)]
        random.seed(seed)
        theirs_values = [theirs.compute(n) for n in range(1, 12)]
        assert ours_values == theirs_values


def test_jitter_with_patched_random() -> None:
    with mock.patch("random.uniform", side_effect=lambda a, b: b):
        assert FullJitterBackoff(cap=1, base=0.1).compute(2) == pytest.approx(0.4)
        assert EqualJitterBackoff(cap=1, base=0.1).compute(2) == pytest.approx(0.4)
        assert EqualJitterBackoff(cap=1, base=0.1).compute(10) == 1
    with mock.patch("random.uniform", side_effect=lambda a, b: a):
        assert FullJitterBackoff(cap=1, base=0.1).compute(2) == 0
        assert EqualJitterBackoff(cap=1, base=0.1).compute(2) == pytest.approx(0.2)
    with mock.patch("random.random", return_value=0.5):
        b = ExponentialWithJitterBackoff(cap=1, base=0.1)
        assert b.compute(2) == pytest.approx(0.2)
        assert b.compute(10) == 1


def test_decorrelated_jitter_state_and_reset() -> None:
    b = DecorrelatedJitterBackoff(cap=1.0, base=0.1)
    with mock.patch("random.uniform", side_effect=lambda a, b: b):
        assert b.compute(1) == pytest.approx(0.1)  # max(base, 0) -> base
        assert b.compute(2) == pytest.approx(0.3)
        assert b.compute(3) == pytest.approx(0.9)
        assert b.compute(4) == 1.0  # capped
        b.reset()
        assert b.compute(1) == pytest.approx(0.1)


def test_default_backoff() -> None:
    b = default_backoff()
    assert type(b) is EqualJitterBackoff
    assert b == EqualJitterBackoff(backoff.DEFAULT_CAP, backoff.DEFAULT_BASE)


@pytest.mark.parametrize("name", JITTER_CLASSES)
def test_backoff_equality_and_hash(name: str) -> None:
    cls = getattr(backoff, name)
    assert cls() == cls()
    assert cls(1, 0.1) == cls(cap=1, base=0.1)
    assert cls(1, 0.1) != cls(1, 0.2)
    assert cls(1, 0.1) != cls(2, 0.1)
    assert hash(cls()) == hash(cls())
    # Same hash values as redis-py: they depend on the parameters only.
    assert hash(cls(0.3, 0.01)) == hash(getattr(oracle_backoff, name)(0.3, 0.01))
    assert cls() != object()
    assert len({cls(), cls(), cls(1, 1)}) == 2

    class Sub(cls):  # type: ignore[misc, valid-type]
        pass

    assert Sub() == cls()
    assert cls() == Sub()
    copied = copy.deepcopy(cls(1, 0.5))
    assert copied == cls(1, 0.5)
    assert pickle.loads(pickle.dumps(cls(1, 0.5))) == cls(1, 0.5)


@pytest.mark.parametrize("first", JITTER_CLASSES)
@pytest.mark.parametrize("second", JITTER_CLASSES)
def test_different_backoff_kinds_differ(first: str, second: str) -> None:
    a = getattr(backoff, first)()
    b = getattr(backoff, second)()
    assert (a == b) == (first == second)
    oa = getattr(oracle_backoff, first)()
    ob = getattr(oracle_backoff, second)()
    assert (a == b) == (oa == ob)


def test_backoff_signatures_match_redis_py() -> None:
    import inspect

    for name in ["ConstantBackoff", "NoBackoff"] + JITTER_CLASSES:
        ours = inspect.signature(getattr(backoff, name))
        theirs = inspect.signature(getattr(oracle_backoff, name))
        assert list(ours.parameters) == list(theirs.parameters), name
        for param in ours.parameters:
            assert ours.parameters[param].default == theirs.parameters[param].default


# ----------------------------------------------------------------------- retry


class Recorder:
    """A ``do`` callable that raises the queued errors, then returns a value."""

    def __init__(self, errors: List[BaseException], result: Any = "done") -> None:
        self.errors = list(errors)
        self.calls = 0
        self.result = result

    def __call__(self) -> Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


class CountingBackoff(AbstractBackoff):
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.resets = 0
        self.computed: List[int] = []

    def reset(self) -> None:
        self.resets += 1

    def compute(self, failures: int) -> float:
        self.computed.append(failures)
        return self.delay


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> List[float]:
    recorded: List[float] = []
    monkeypatch.setattr(retry, "sleep", recorded.append)
    return recorded


def test_default_supported_errors() -> None:
    r = Retry(NoBackoff(), 1)
    assert r._supported_errors == (
        exceptions.ConnectionError,
        exceptions.TimeoutError,
        socket.timeout,
    )


def test_c_core_contract_attributes() -> None:
    b = ExponentialBackoff()
    r = Retry(b, 3)
    assert r._retries == 3 and type(r._retries) is int
    assert type(r._supported_errors) is tuple
    assert all(issubclass(e, BaseException) for e in r._supported_errors)
    assert r._backoff is b
    r.update_supported_errors([ValueError])
    assert type(r._supported_errors) is tuple


def test_success_first_time(sleeps: List[float]) -> None:
    b = CountingBackoff()
    fails: List[Any] = []
    assert Retry(b, 3).call_with_retry(lambda: 42, fails.append) == 42
    assert b.resets == 1 and b.computed == [] and fails == [] and sleeps == []


def test_retries_then_succeeds(sleeps: List[float]) -> None:
    b = CountingBackoff(0.5)
    do = Recorder([exceptions.ConnectionError("a"), exceptions.TimeoutError("b")])
    fails: List[Any] = []
    assert Retry(b, 2).call_with_retry(do, fails.append) == "done"
    assert do.calls == 3
    assert [str(e) for e in fails] == ["a", "b"]
    assert b.computed == [1, 2]
    assert sleeps == [0.5, 0.5]


def test_gives_up_after_retries_plus_one_attempts(sleeps: List[float]) -> None:
    b = CountingBackoff(0.1)
    errors = [exceptions.ConnectionError(str(i)) for i in range(10)]
    do = Recorder(errors)
    fails: List[Any] = []
    with pytest.raises(exceptions.ConnectionError) as info:
        Retry(b, 3).call_with_retry(do, fails.append)
    assert do.calls == 4
    assert str(info.value) == "3"
    assert len(fails) == 4  # fail() runs for the last failure as well
    assert b.computed == [1, 2, 3]  # no backoff after the final failure
    assert sleeps == [0.1, 0.1, 0.1]


def test_zero_retries(sleeps: List[float]) -> None:
    do = Recorder([exceptions.TimeoutError("t")])
    fails: List[Any] = []
    with pytest.raises(exceptions.TimeoutError):
        Retry(NoBackoff(), 0).call_with_retry(do, fails.append)
    assert do.calls == 1 and len(fails) == 1 and sleeps == []


def test_with_failure_count(sleeps: List[float]) -> None:
    do = Recorder([exceptions.ConnectionError()] * 3)
    seen: List[Tuple[Any, int]] = []
    Retry(NoBackoff(), 5).call_with_retry(
        do, lambda e, n: seen.append((type(e), n)), with_failure_count=True
    )
    assert seen == [(exceptions.ConnectionError, n) for n in (1, 2, 3)]


def test_is_retryable_false_raises_without_fail(sleeps: List[float]) -> None:
    err = exceptions.ConnectionError("no")
    do = Recorder([err])
    fails: List[Any] = []
    checked: List[Any] = []

    def is_retryable(e: Exception) -> bool:
        checked.append(e)
        return False

    with pytest.raises(exceptions.ConnectionError) as info:
        Retry(NoBackoff(), 5).call_with_retry(do, fails.append, is_retryable)
    assert info.value is err
    assert checked == [err] and fails == [] and do.calls == 1


def test_is_retryable_true_retries(sleeps: List[float]) -> None:
    do = Recorder([exceptions.ConnectionError()] * 2)
    assert (
        Retry(NoBackoff(), 5).call_with_retry(do, lambda e: None, lambda e: True)
        == "done"
    )
    assert do.calls == 3


def test_unsupported_error_propagates_immediately(sleeps: List[float]) -> None:
    do = Recorder([KeyError("k")])
    fails: List[Any] = []
    with pytest.raises(KeyError):
        Retry(NoBackoff(), 5).call_with_retry(do, fails.append)
    assert do.calls == 1 and fails == []


def test_subclass_of_supported_error_is_retried(sleeps: List[float]) -> None:
    do = Recorder([exceptions.AuthenticationError(), socket.timeout()])
    assert Retry(NoBackoff(), 2).call_with_retry(do, lambda e: None) == "done"


def test_sleep_only_when_backoff_positive(sleeps: List[float]) -> None:
    do = Recorder([exceptions.ConnectionError()] * 3)
    Retry(ConstantBackoff(0), 3).call_with_retry(do, lambda e: None)
    assert sleeps == []
    do = Recorder([exceptions.ConnectionError()] * 3)
    Retry(ConstantBackoff(-1), 3).call_with_retry(do, lambda e: None)
    assert sleeps == []


def test_negative_retries_retry_forever(sleeps: List[float]) -> None:
    do = Recorder([exceptions.ConnectionError()] * 500)
    fails: List[Any] = []
    assert Retry(ConstantBackoff(0.01), -1).call_with_retry(do, fails.append) == "done"
    assert do.calls == 501 and len(fails) == 500 and len(sleeps) == 500


def test_forever_stopped_by_fail_handler(sleeps: List[float]) -> None:
    class Stop(Exception):
        pass

    def do() -> None:
        raise exceptions.ConnectionError()

    def fail(error: Exception, count: int) -> None:
        if count == 25:
            raise Stop

    with pytest.raises(Stop):
        Retry(NoBackoff(), -5).call_with_retry(do, fail, with_failure_count=True)


def test_backoff_reset_each_call(sleeps: List[float]) -> None:
    b = CountingBackoff()
    r = Retry(b, 1)
    r.call_with_retry(lambda: 1, lambda e: None)
    r.call_with_retry(lambda: 1, lambda e: None)
    assert b.resets == 2


def test_decorrelated_state_reset_between_calls(sleeps: List[float]) -> None:
    b = DecorrelatedJitterBackoff(cap=10, base=1)
    r = Retry(b, 3)
    with mock.patch("random.uniform", side_effect=lambda lo, hi: hi):
        r.call_with_retry(Recorder([exceptions.ConnectionError()] * 3), lambda e: 0)
        first = list(sleeps)
        sleeps.clear()
        r.call_with_retry(Recorder([exceptions.ConnectionError()] * 3), lambda e: 0)
    assert first == sleeps == [1, 3, 9]


def _trace(module_retry: Any, module_backoff: Any, exc_mod: Any,
           retries: int, n_errors: int, retryable: Optional[Callable] = None,
           with_count: bool = False) -> List[Any]:
    """Run one scenario and return the observable events."""
    events: List[Any] = []
    remaining = [n_errors]

    def do() -> str:
        events.append("do")
        if remaining[0]:
            remaining[0] -= 1
            raise exc_mod.ConnectionError("x")
        return "ok"

    def fail(*args: Any) -> None:
        events.append(("fail", len(args), args[1:] if with_count else ()))

    with mock.patch.object(module_retry, "sleep", lambda s: events.append(("sleep", s))):
        try:
            result = module_retry.Retry(
                module_backoff.ExponentialBackoff(cap=1, base=0.1), retries
            ).call_with_retry(do, fail, retryable, with_count)
            events.append(("result", result))
        except Exception as exc:  # noqa: BLE001
            events.append(("raised", type(exc).__name__, str(exc)))
    return events


@pytest.mark.parametrize("retries", [-1, 0, 1, 3])
@pytest.mark.parametrize("n_errors", [0, 1, 3, 4])
@pytest.mark.parametrize("with_count", [False, True])
@pytest.mark.parametrize("retryable", [None, "yes", "no"])
def test_call_with_retry_trace_matches_redis_py(
    retries: int, n_errors: int, with_count: bool, retryable: Optional[str]
) -> None:
    check = {None: None, "yes": lambda e: True, "no": lambda e: False}[retryable]
    ours = _trace(retry, backoff, exceptions, retries, n_errors, check, with_count)
    theirs = _trace(
        oracle_retry, oracle_backoff, oracle_exceptions, retries, n_errors, check,
        with_count,
    )
    assert ours == theirs


def test_retry_equality_and_hash() -> None:
    a = Retry(ExponentialBackoff(), 3)
    b = Retry(ExponentialBackoff(), 3)
    assert a == b and hash(a) == hash(b)
    assert a != Retry(ExponentialBackoff(), 4)
    assert a != Retry(ExponentialBackoff(cap=1), 3)
    assert a != Retry(NoBackoff(), 3)
    assert a != Retry(ExponentialBackoff(), 3, (exceptions.ConnectionError,))
    reordered = Retry(
        ExponentialBackoff(), 3,
        (socket.timeout, exceptions.TimeoutError, exceptions.ConnectionError),
    )
    assert a == reordered and hash(a) == hash(reordered)
    assert a != "retry"
    assert len({a, b, reordered}) == 1


def test_retry_deepcopy() -> None:
    a = Retry(EqualJitterBackoff(), 3)
    b = copy.deepcopy(a)
    assert a == b and b is not a and b._backoff is not a._backoff
    b.update_retries(5)
    assert a.get_retries() == 3 and a != b
    c = copy.copy(a)
    assert c == a
    assert pickle.loads(pickle.dumps(a)) == a


def test_update_supported_errors_and_retries() -> None:
    r = Retry(NoBackoff(), 2)
    r.update_supported_errors([ValueError, exceptions.ConnectionError])
    assert set(r._supported_errors) == {
        exceptions.ConnectionError, exceptions.TimeoutError, socket.timeout, ValueError
    }
    assert len(r._supported_errors) == 4
    assert r.get_retries() == 2
    r.update_retries(-1)
    assert r.get_retries() == -1


def test_abstract_retry() -> None:
    with pytest.raises(TypeError):
        AbstractRetry(NoBackoff(), 1, (ValueError,))  # type: ignore[abstract]
    assert issubclass(Retry, AbstractRetry)
    assert Retry.__hash__ is AbstractRetry.__hash__


def test_retry_signature_matches_redis_py() -> None:
    import inspect

    for name in ("__init__", "call_with_retry", "update_supported_errors",
                 "get_retries", "update_retries"):
        ours = inspect.signature(getattr(Retry, name))
        theirs = inspect.signature(getattr(oracle_retry.Retry, name))
        assert list(ours.parameters) == list(theirs.parameters), name
