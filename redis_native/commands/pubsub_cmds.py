"""Publish and Pub/Sub introspection commands (redis-py's
``PubSubCommands``).  Subscribing is done through ``Redis.pubsub()``."""

from __future__ import annotations

from typing import Any

from ._types import ChannelT, EncodableT, PatternT, ResponseT

__all__ = ["PubSubCommands"]


class PubSubCommands:
    """Pub/Sub commands that run on an ordinary connection."""

    def publish(self, channel: ChannelT, message: EncodableT, **kwargs: Any) -> ResponseT:
        """Send ``message`` to ``channel``; return how many subscribers got
        it.

        For more information, see https://redis.io/commands/publish
        """
        return self.execute_command("PUBLISH", channel, message, **kwargs)

    def spublish(self, shard_channel: ChannelT, message: EncodableT) -> ResponseT:
        """Send ``message`` to the shard channel ``shard_channel``; return
        how many subscribers got it.

        For more information, see https://redis.io/commands/spublish
        """
        return self.execute_command("SPUBLISH", shard_channel, message)

    def pubsub_channels(self, pattern: PatternT = "*", **kwargs: Any) -> ResponseT:
        """Return the channels matching ``pattern`` that have subscribers.

        For more information, see https://redis.io/commands/pubsub-channels
        """
        return self.execute_command("PUBSUB CHANNELS", pattern, **kwargs)

    def pubsub_shardchannels(self, pattern: PatternT = "*", **kwargs: Any) -> ResponseT:
        """Return the shard channels matching ``pattern`` that have
        subscribers.

        For more information, see https://redis.io/commands/pubsub-shardchannels
        """
        return self.execute_command("PUBSUB SHARDCHANNELS", pattern, **kwargs)

    def pubsub_numpat(self, **kwargs: Any) -> ResponseT:
        """Return the number of pattern subscriptions.

        For more information, see https://redis.io/commands/pubsub-numpat
        """
        return self.execute_command("PUBSUB NUMPAT", **kwargs)

    def pubsub_numsub(self, *args: ChannelT, **kwargs: Any) -> ResponseT:
        """Return ``(channel, subscriber count)`` for each channel in
        ``args``.

        For more information, see https://redis.io/commands/pubsub-numsub
        """
        return self.execute_command("PUBSUB NUMSUB", *args, **kwargs)

    def pubsub_shardnumsub(self, *args: ChannelT, **kwargs: Any) -> ResponseT:
        """Return ``(shard channel, subscriber count)`` for each shard
        channel in ``args``.

        For more information, see https://redis.io/commands/pubsub-shardnumsub
        """
        return self.execute_command("PUBSUB SHARDNUMSUB", *args, **kwargs)
