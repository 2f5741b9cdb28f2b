"""``redis.asyncio.retry.Retry``: the retry policy whose ``call_with_retry``
awaits the operation, the failure handler and the backoff sleep."""
from asyncio import sleep
from typing import Any, Awaitable, Callable, Optional, Tuple, Type, TypeVar, Union

from ..backoff import AbstractBackoff
from ..exceptions import ConnectionError, RedisError, TimeoutError
from ..retry import AbstractRetry

__all__ = ["Retry"]

T = TypeVar("T")


class Retry(AbstractRetry[RedisError]):
    """Retry an awaitable operation ``retries`` times (-1: forever) on
    ``supported_errors``, sleeping ``backoff.compute(failures)`` between tries."""

    __hash__ = AbstractRetry.__hash__

    def __init__(
        self,
        backoff: AbstractBackoff,
        retries: int,
        supported_errors: Tuple[Type[RedisError], ...] = (ConnectionError, TimeoutError),
    ):
        super().__init__(backoff, retries, supported_errors)

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Retry):
            return NotImplemented
        return (self._backoff == other._backoff and self._retries == other._retries
                and set(self._supported_errors) == set(other._supported_errors))

    async def call_with_retry(
        self,
        do: Callable[[], Awaitable[T]],
        fail: Union[Callable[[Exception], Any], Callable[[Exception, int], Any]],
        is_retryable: Optional[Callable[[Exception], bool]] = None,
        with_failure_count: bool = False,
    ) -> T:
        """``await do()``; on a supported error ``await fail(error[, count])``,
        back off and try again until the retries are spent (then raise)."""
        self._backoff.reset()
        failures = 0
        while True:
            try:
                return await do()
            except self._supported_errors as error:
                if is_retryable and not is_retryable(error):
                    raise
                failures += 1
                if with_failure_count:
                    await fail(error, failures)
                else:
                    await fail(error)
                if self._retries >= 0 and failures > self._retries:
                    raise error
                backoff = self._backoff.compute(failures)
                if backoff > 0:
                    await sleep(backoff)
