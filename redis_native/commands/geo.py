"""Geospatial commands (redis-py's ``GeoCommands``)."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Union

from ..exceptions import DataError
from ._types import EncodableT, FieldT, KeyT, ResponseT

__all__ = ["GeoCommands"]

_UNITS = ("m", "km", "mi", "ft")


class GeoCommands:
    """Commands on geospatial indexes (sorted sets of geohash-encoded
    positions, https://redis.io/docs/data-types/geospatial/)."""

    def geoadd(
        self,
        name: KeyT,
        values: Sequence[EncodableT],
        nx: bool = False,
        xx: bool = False,
        ch: bool = False,
    ) -> ResponseT:
        """Add places to ``name``; ``values`` is a flat sequence of
        ``longitude, latitude, member`` triples.  ``nx`` only adds new
        members, ``xx`` only updates existing ones, ``ch`` counts changed
        members instead of added ones.

        For more information, see https://redis.io/commands/geoadd
        """
        if nx and xx:
            raise DataError("GEOADD allows either 'nx' or 'xx', not both")
        if len(values) % 3 != 0:
            raise DataError("GEOADD requires places with lon, lat and name values")
        args: List[Any] = [name]
        for flag, word in ((nx, "NX"), (xx, "XX"), (ch, "CH")):
            if flag:
                args.append(word)
        args.extend(values)
        return self.execute_command("GEOADD", *args)

    def geodist(
        self, name: KeyT, place1: FieldT, place2: FieldT, unit: Optional[str] = None
    ) -> ResponseT:
        """Return the distance between two members as a float (in ``unit``:
        m, km, mi or ft; meters by default), None if one is missing.

        For more information, see https://redis.io/commands/geodist
        """
        args: List[Any] = [name, place1, place2]
        if unit:
            if unit not in _UNITS:
                raise DataError("GEODIST invalid unit")
            args.append(unit)
        return self.execute_command("GEODIST", *args, keys=[name])

    def geohash(self, name: KeyT, *values: FieldT) -> ResponseT:
        """Return the 11-character geohash string of each member in
        ``values`` (None for missing ones).

        For more information, see https://redis.io/commands/geohash
        """
        return self.execute_command("GEOHASH", name, *values, keys=[name])

    def geopos(self, name: KeyT, *values: FieldT) -> ResponseT:
        """Return the ``(longitude, latitude)`` of each member in ``values``
        (None for missing ones).

        For more information, see https://redis.io/commands/geopos
        """
        return self.execute_command("GEOPOS", name, *values, keys=[name])

    def georadius(
        self,
        name: KeyT,
        longitude: float,
        latitude: float,
        radius: float,
        unit: Optional[str] = None,
        withdist: bool = False,
        withcoord: bool = False,
        withhash: bool = False,
        count: Optional[int] = None,
        sort: Optional[str] = None,
        store: Optional[KeyT] = None,
        store_dist: Optional[KeyT] = None,
        any: bool = False,
    ) -> ResponseT:
        """Return the members within ``radius`` (in ``unit``, meters by
        default) of the given position.

        ``withdist``, ``withcoord`` and ``withhash`` add the distance, the
        position and the raw geohash to each result; ``count`` limits the
        results (``any``: stop at the first ``count`` found); ``sort`` is ASC
        or DESC by distance; ``store`` / ``store_dist`` save the result in a
        sorted set scored by geohash / distance instead.  Deprecated by the
        server in favour of :meth:`geosearch`.

        For more information, see https://redis.io/commands/georadius
        """
        return self._georadiusgeneric(
            "GEORADIUS",
            name,
            longitude,
            latitude,
            radius,
            unit=unit,
            withdist=withdist,
            withcoord=withcoord,
            withhash=withhash,
            count=count,
            sort=sort,
            store=store,
            store_dist=store_dist,
            any=any,
        )

    def georadiusbymember(
        self,
        name: KeyT,
        member: FieldT,
        radius: float,
        unit: Optional[str] = None,
        withdist: bool = False,
        withcoord: bool = False,
        withhash: bool = False,
        count: Optional[int] = None,
        sort: Optional[str] = None,
        store: Union[KeyT, None] = None,
        store_dist: Union[KeyT, None] = None,
        any: bool = False,
    ) -> ResponseT:
        """Like :meth:`georadius`, centred on the position of ``member``.

        For more information, see https://redis.io/commands/georadiusbymember
        """
        return self._georadiusgeneric(
            "GEORADIUSBYMEMBER",
            name,
            member,
            radius,
            unit=unit,
            withdist=withdist,
            withcoord=withcoord,
            withhash=withhash,
            count=count,
            sort=sort,
            store=store,
            store_dist=store_dist,
            any=any,
        )

    def _georadiusgeneric(self, command: str, *args: EncodableT, **kwargs: Any) -> ResponseT:
        """Shared implementation of GEORADIUS and GEORADIUSBYMEMBER; all
        ``kwargs`` also reach the response callback."""
        pieces: List[Any] = list(args)
        unit = kwargs["unit"]
        if unit and unit not in _UNITS:
            raise DataError("GEORADIUS invalid unit")
        pieces.append(unit if unit else "m")
        if kwargs["any"] and kwargs["count"] is None:
            raise DataError("``any`` can't be provided without ``count``")
        for option, word in (
            ("withdist", "WITHDIST"),
            ("withcoord", "WITHCOORD"),
            ("withhash", "WITHHASH"),
        ):
            if kwargs[option]:
                pieces.append(word)
        if kwargs["count"] is not None:
            pieces += ("COUNT", kwargs["count"])
            if kwargs["any"]:
                pieces.append("ANY")
        sort = kwargs["sort"]
        if sort:
            if sort not in ("ASC", "DESC"):
                raise DataError("GEORADIUS invalid sort")
            pieces.append(sort)
        if kwargs["store"] and kwargs["store_dist"]:
            raise DataError("GEORADIUS store and store_dist cant be set together")
        if kwargs["store"]:
            pieces += (b"STORE", kwargs["store"])
        if kwargs["store_dist"]:
            pieces += (b"STOREDIST", kwargs["store_dist"])
        return self.execute_command(command, *pieces, **kwargs)

    def geosearch(
        self,
        name: KeyT,
        member: Union[FieldT, None] = None,
        longitude: Union[float, None] = None,
        latitude: Union[float, None] = None,
        unit: str = "m",
        radius: Union[float, None] = None,
        width: Union[float, None] = None,
        height: Union[float, None] = None,
        sort: Optional[str] = None,
        count: Optional[int] = None,
        any: bool = False,
        withcoord: bool = False,
        withdist: bool = False,
        withhash: bool = False,
    ) -> ResponseT:
        """Return the members inside a circle (``radius``) or an axis-aligned
        box (``width`` x ``height``), in ``unit`` (m, km, mi, ft), centred on
        ``member`` or on ``longitude``/``latitude``.

        ``sort`` (ASC/DESC by distance), ``count`` (``any``: stop at the
        first ``count`` found) and the ``with*`` flags work as for
        :meth:`georadius`.

        For more information, see https://redis.io/commands/geosearch
        """
        return self._geosearchgeneric(
            "GEOSEARCH",
            name,
            member=member,
            longitude=longitude,
            latitude=latitude,
            unit=unit,
            radius=radius,
            width=width,
            height=height,
            sort=sort,
            count=count,
            any=any,
            withcoord=withcoord,
            withdist=withdist,
            withhash=withhash,
            store=None,
            store_dist=None,
        )

    def geosearchstore(
        self,
        dest: KeyT,
        name: KeyT,
        member: Optional[FieldT] = None,
        longitude: Optional[float] = None,
        latitude: Optional[float] = None,
        unit: str = "m",
        radius: Optional[float] = None,
        width: Optional[float] = None,
        height: Optional[float] = None,
        sort: Optional[str] = None,
        count: Optional[int] = None,
        any: bool = False,
        storedist: bool = False,
    ) -> ResponseT:
        """Like :meth:`geosearch`, but store the result in the sorted set
        ``dest`` (scored by distance when ``storedist``) and return its
        size.

        For more information, see https://redis.io/commands/geosearchstore
        """
        return self._geosearchgeneric(
            "GEOSEARCHSTORE",
            dest,
            name,
            member=member,
            longitude=longitude,
            latitude=latitude,
            unit=unit,
            radius=radius,
            width=width,
            height=height,
            sort=sort,
            count=count,
            any=any,
            withcoord=None,
            withdist=None,
            withhash=None,
            store=None,
            store_dist=storedist,
        )

    def _geosearchgeneric(self, command: str, *args: EncodableT, **kwargs: Any) -> ResponseT:
        """Shared implementation of GEOSEARCH and GEOSEARCHSTORE; all
        ``kwargs`` also reach the response callback."""
        pieces: List[Any] = list(args)
        member = kwargs["member"]
        longitude = kwargs["longitude"]
        latitude = kwargs["latitude"]

        # centre: FROMMEMBER or FROMLONLAT
        if member is None and (longitude is None or latitude is None):
            raise DataError("GEOSEARCH must have member or longitude and latitude")
        if member:
            if longitude or latitude:
                raise DataError(
                    "GEOSEARCH member and longitude or latitude cant be set together"
                )
            pieces += (b"FROMMEMBER", member)
        if longitude is not None and latitude is not None:
            pieces += (b"FROMLONLAT", longitude, latitude)

        # shape: BYRADIUS or BYBOX
        radius = kwargs["radius"]
        width = kwargs["width"]
        height = kwargs["height"]
        unit = kwargs["unit"]
        if radius is None and (width is None or height is None):
            raise DataError("GEOSEARCH must have radius or width and height")
        if unit is None:
            raise DataError("GEOSEARCH must have unit")
        if unit.lower() not in _UNITS:
            raise DataError("GEOSEARCH invalid unit")
        if radius:
            if width or height:
                raise DataError(
                    "GEOSEARCH radius and width or height cant be set together"
                )
            pieces += (b"BYRADIUS", radius, unit)
        if width and height:
            pieces += (b"BYBOX", width, height, unit)

        sort = kwargs["sort"]
        if sort:
            if sort.upper() == "ASC":
                pieces.append(b"ASC")
            elif sort.upper() == "DESC":
                pieces.append(b"DESC")
            else:
                raise DataError("GEOSEARCH invalid sort")

        if kwargs["count"]:
            pieces += (b"COUNT", kwargs["count"])
            if kwargs["any"]:
                pieces.append(b"ANY")
        elif kwargs["any"]:
            raise DataError("GEOSEARCH ``any`` can't be provided without count")

        for option, word in (
            ("withdist", b"WITHDIST"),
            ("withcoord", b"WITHCOORD"),
            ("withhash", b"WITHHASH"),
            ("store_dist", b"STOREDIST"),
        ):
            if kwargs[option]:
                pieces.append(word)

        kwargs["keys"] = [args[0] if command == "GEOSEARCH" else args[1]]
        return self.execute_command(command, *pieces, **kwargs)
