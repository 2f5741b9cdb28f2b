"""HyperLogLog commands (redis-py's ``HyperlogCommands``)."""

from __future__ import annotations

from ._types import FieldT, KeyT, ResponseT

__all__ = ["HyperlogCommands"]


class HyperlogCommands:
    """Probabilistic cardinality counters
    (https://redis.io/docs/data-types/probabilistic/hyperloglogs/)."""

    def pfadd(self, name: KeyT, *values: FieldT) -> ResponseT:
        """Add ``values`` to the HyperLogLog ``name``; return 1 if its
        estimate changed.

        For more information, see https://redis.io/commands/pfadd
        """
        return self.execute_command("PFADD", name, *values)

    def pfcount(self, *sources: KeyT) -> ResponseT:
        """Return the estimated number of distinct elements added to the
        HyperLogLogs ``sources`` (their union when several).

        For more information, see https://redis.io/commands/pfcount
        """
        return self.execute_command("PFCOUNT", *sources)

    def pfmerge(self, dest: KeyT, *sources: KeyT) -> ResponseT:
        """Store in ``dest`` the union of the HyperLogLogs ``sources``.

        For more information, see https://redis.io/commands/pfmerge
        """
        return self.execute_command("PFMERGE", dest, *sources)
