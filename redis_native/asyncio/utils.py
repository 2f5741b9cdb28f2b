"""``redis.asyncio.utils``: :func:`from_url` and the ``pipeline`` context helper."""
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import Pipeline, Redis

__all__ = ["from_url", "pipeline"]


def from_url(url: str, **kwargs: Any) -> "Redis":
    """An asyncio client configured from ``url`` (see ``Redis.from_url``)."""
    from .client import Redis

    return Redis.from_url(url, **kwargs)


class pipeline:  # noqa: N801  (redis-py's name)
    """``async with pipeline(r) as pipe:`` queues commands and executes them on exit."""

    def __init__(self, redis_obj: "Redis"):
        self.p: "Pipeline" = redis_obj.pipeline()

    async def __aenter__(self) -> "Pipeline":
        return self.p

    async def __aexit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        await self.p.execute()
        del self.p
