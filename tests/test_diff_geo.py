"""Differential tests: geo commands (redis_native vs redis-py).

Covers GEOADD (nx/xx/ch), GEODIST, GEOHASH, GEOPOS, GEORADIUS and
GEORADIUSBYMEMBER with every option (incl. STORE/STOREDIST), GEOSEARCH and
GEOSEARCHSTORE (FROMMEMBER/FROMLONLAT, BYRADIUS/BYBOX, WITH*, ANY/COUNT/SORT),
client-side validation errors, falsy-but-not-None arguments (0, "") that
redis-py treats specially, and the commands sent on the wire.
"""
import pytest


NON_UTF8 = b"\xff\xfe"

PLACES = (
    13.361389, 38.115556, "Palermo",
    15.087269, 37.502669, "Catania",
    12.758489, 38.788135, "edge1",
    2.349014, 48.864716, "Paris",
)


def _places(c, key="Sicily"):
    c.geoadd(key, PLACES)


def test_geoadd(diff):
    diff("geoadd", "g", PLACES)
    diff("geoadd", "g", PLACES)  # all exist: 0
    diff("geoadd", "g", [13.0, 38.0, "Palermo"], ch=True)  # changed: 1
    diff("geoadd", "g", [13.0, 38.0, "Palermo"], ch=True)  # same: 0
    diff("geoadd", "g", [1.0, 1.0, "new1"], xx=True)  # xx: not added
    diff("geoadd", "g", [1.0, 1.0, "Palermo"], xx=True, ch=True)
    diff("geoadd", "g", [2.0, 2.0, "Palermo", 3.0, 3.0, "new2"], nx=True)
    diff("geoadd", "g", [2.0, 2.0, "Palermo", 3.0, 3.0, "new3"], nx=True, ch=True)
    diff("geoadd", "g", (5, 5, b"bytes-member", 6.5, 6.5, NON_UTF8))
    diff("geoadd", "g", [1.0, 1.0, "x"], nx=True, xx=True)  # DataError
    diff("geoadd", "g", [1.0, 1.0])  # DataError: not a multiple of 3
    diff("geoadd", "g", [])  # DataError? (empty)
    diff("geoadd", "g", [200.0, 100.0, "bad"])  # server: invalid coords
    diff("geoadd", "g", ["a", "b", "c"])  # server: not a float
    diff("zrange", "g", 0, -1, withscores=True)


def test_geodist(diff):
    diff.setup(_places)
    diff("geodist", "Sicily", "Palermo", "Catania")
    diff("geodist", "Sicily", "Palermo", "Catania", "km")
    diff("geodist", "Sicily", "Palermo", "Catania", unit="mi")
    diff("geodist", "Sicily", "Palermo", "Catania", unit="ft")
    diff("geodist", "Sicily", "Palermo", "Catania", unit="m")
    diff("geodist", "Sicily", "Palermo", "Palermo")
    diff("geodist", "Sicily", "Palermo", "missing")
    diff("geodist", "nope", "a", "b")
    diff("geodist", "Sicily", "Palermo", "Catania", unit="yards")  # DataError
    diff("geodist", "Sicily", "Palermo", "Catania", unit="KM")  # DataError (case)


def test_geohash_geopos(diff):
    diff.setup(_places)
    diff("geohash", "Sicily", "Palermo", "Catania", "missing")
    diff("geohash", "Sicily")
    diff("geohash", "nope", "a")
    diff("geopos", "Sicily", "Palermo", "missing", "Catania")
    diff("geopos", "Sicily", "Paris")
    diff("geopos", "nope", "a")
    diff("geopos", "Sicily")  # wrong number of args
    diff("set", "str", "x")
    diff("geopos", "str", "a")
    diff("geohash", "str", "a")


def test_geo_non_utf8_members(diff):
    diff("geoadd", "g", [13.36, 38.11, NON_UTF8, 15.08, 37.50, "ok"])
    diff("georadius", "g", 15, 37, 200, unit="km")  # UnicodeDecodeError when decoding
    diff("georadius", "g", 15, 37, 200, unit="km", withdist=True, sort="ASC")
    diff("geosearch", "g", longitude=15, latitude=37, radius=200, unit="km")
    diff("geohash", "g", NON_UTF8)
    diff("geopos", "g", NON_UTF8)
    diff("geodist", "g", NON_UTF8, "ok")


@pytest.mark.parametrize("opts", [
    {},
    {"withdist": True},
    {"withcoord": True},
    {"withhash": True},
    {"withdist": True, "withcoord": True},
    {"withdist": True, "withcoord": True, "withhash": True},
    {"withhash": True, "withcoord": True},
    {"sort": "ASC"},
    {"sort": "DESC", "withdist": True},
    {"count": 2, "sort": "ASC"},
    {"count": 1, "any": True},
    {"count": 2, "any": True, "withdist": True, "sort": "DESC"},
], ids=lambda o: "-".join("%s=%s" % kv for kv in o.items()) or "plain")
def test_georadius_options(diff, opts):
    diff.setup(_places)
    diff("georadius", "Sicily", 15, 37, 200, unit="km", **opts)
    diff("georadius", "Sicily", 15, 37, 200000, **opts)  # default unit m
    diff("georadiusbymember", "Sicily", "Palermo", 300, unit="km", **opts)
    diff("georadius", "nope", 15, 37, 200, unit="km", **opts)


def test_georadius_units_and_errors(diff):
    diff.setup(_places)
    for unit in ("m", "km", "mi", "ft"):
        diff("georadius", "Sicily", 15, 37, 200, unit=unit, withdist=True)
    diff("georadius", "Sicily", 15, 37, 200, unit="parsec")  # DataError
    diff("georadius", "Sicily", 15, 37, 200, unit="km", sort="SIDEWAYS")  # DataError
    diff("georadius", "Sicily", 15, 37, 200, unit="km", any=True)  # DataError: any w/o count
    diff("georadius", "Sicily", 15, 37, 200, unit="km", store="a", withdist=True)  # DataError
    diff("georadius", "Sicily", 15, 37, 200, unit="km", count=0)
    diff("georadius", "Sicily", 15, 37, 200, unit="km", count=-1)
    diff("georadius", "Sicily", 200, 100, 10, unit="km")
    diff("georadiusbymember", "Sicily", "missing", 100, unit="km")
    diff("georadius", "Sicily", 15, 37, 200, unit="km", sort="asc")
    diff("georadius", "Sicily", 15, 37, 200, unit="km", sort="desc")


def test_georadius_store(diff):
    diff.setup(_places)
    diff("georadius", "Sicily", 15, 37, 200, unit="km", store="dst")
    diff("zrange", "dst", 0, -1, withscores=True)
    diff("georadius", "Sicily", 15, 37, 200, unit="km", store_dist="dst2")
    diff("zrange", "dst2", 0, -1, withscores=True)
    diff("georadius", "Sicily", 15, 37, 200, unit="km", store="dst3", count=1, sort="ASC")
    diff("zrange", "dst3", 0, -1)
    diff("georadius", "Sicily", 15, 37, 200, unit="km", store_dist="dst4", count=1, any=True)
    diff("georadiusbymember", "Sicily", "Palermo", 300, unit="km", store="dst5")
    diff("georadiusbymember", "Sicily", "Palermo", 300, unit="km", store_dist="dst6", sort="DESC")
    diff("zrange", "dst6", 0, -1, withscores=True)
    diff("georadius", "Sicily", 0, 0, 1, unit="km", store="empty")  # 0, key deleted
    diff("exists", "empty")
    diff("georadius", "Sicily", 15, 37, 200, unit="km", store="dst", store_dist="dst2")


GEOSEARCH_CASES = [
    {"member": "Palermo", "radius": 200, "unit": "km"},
    {"member": "Palermo", "width": 400, "height": 400, "unit": "km"},
    {"longitude": 15, "latitude": 37, "radius": 200, "unit": "km"},
    {"longitude": 15, "latitude": 37, "width": 400, "height": 200, "unit": "km"},
    {"longitude": 15, "latitude": 37, "radius": 200000},  # default unit m
    {"longitude": 15, "latitude": 37, "radius": 200, "unit": "mi", "sort": "ASC"},
    {"member": "Palermo", "radius": 300, "unit": "km", "sort": "DESC", "count": 2},
    {"member": "Palermo", "radius": 300, "unit": "km", "count": 1, "any": True},
    {"longitude": 15, "latitude": 37, "radius": 200, "unit": "km", "withcoord": True},
    {"longitude": 15, "latitude": 37, "radius": 200, "unit": "km", "withdist": True},
    {"longitude": 15, "latitude": 37, "radius": 200, "unit": "km", "withhash": True},
    {"longitude": 15, "latitude": 37, "radius": 200, "unit": "km", "withcoord": True,
     "withdist": True, "withhash": True, "sort": "ASC"},
    {"member": "Catania", "width": 1000, "height": 1000, "unit": "ft", "withdist": True},
    {"member": "Palermo", "radius": 2000, "unit": "km", "count": 3, "sort": "asc",
     "withdist": True, "withcoord": True},
]


@pytest.mark.parametrize("kw", GEOSEARCH_CASES, ids=lambda kw: "-".join(sorted(kw)))
def test_geosearch(diff, kw):
    diff.setup(_places)
    diff("geosearch", "Sicily", **kw)
    diff("geosearch", "nope", **kw)


@pytest.mark.parametrize("kw", [k for k in GEOSEARCH_CASES if not any(
    x in k for x in ("withcoord", "withdist", "withhash"))], ids=lambda kw: "-".join(sorted(kw)))
def test_geosearchstore(diff, kw):
    diff.setup(_places)
    diff("geosearchstore", "dst", "Sicily", **kw)
    diff("zrange", "dst", 0, -1, withscores=True)
    diff("geosearchstore", "dst2", "Sicily", storedist=True, **kw)
    diff("zrange", "dst2", 0, -1, withscores=True)
    diff("geosearchstore", "dst3", "nope", **kw)
    diff("exists", "dst3")


def test_geosearch_errors(diff):
    diff.setup(_places)
    diff("geosearch", "Sicily", radius=10)  # no member / lonlat: DataError
    diff("geosearch", "Sicily", longitude=15, radius=10)  # DataError
    diff("geosearch", "Sicily", member="Palermo", longitude=15, latitude=37, radius=10)
    diff("geosearch", "Sicily", member="Palermo")  # no radius / box
    diff("geosearch", "Sicily", member="Palermo", width=10)  # half a box
    diff("geosearch", "Sicily", member="Palermo", radius=10, width=10, height=10)
    diff("geosearch", "Sicily", member="Palermo", radius=10, unit=None)
    diff("geosearch", "Sicily", member="Palermo", radius=10, unit="furlong")
    diff("geosearch", "Sicily", member="Palermo", radius=10, sort="UP")
    diff("geosearch", "Sicily", member="Palermo", radius=10, any=True)  # any w/o count
    diff("geosearch", "Sicily", member="missing", radius=10)  # server error
    diff("geosearch", "Sicily", member="Palermo", radius=10, count=-1)  # server error
    diff("geosearch", "Sicily", member="Palermo", radius=10, unit="KM")  # case-insensitive
    diff("geosearchstore", "d", "Sicily", radius=10)  # DataError
    diff("geosearchstore", "d", "Sicily", member="Palermo", radius=10, any=True)


def test_geosearch_falsy_arguments(diff):
    """redis-py tests ``member``/``radius``/``width``/``count`` by truthiness:
    0 and "" are dropped silently, which changes the command sent."""
    diff.setup(_places)
    diff("geoadd", "Sicily", [15.0, 37.0, "0", 15.0, 37.0, ""])
    diff("geosearch", "Sicily", member=0, radius=10)
    diff("geosearch", "Sicily", member="", radius=10)
    diff("geosearch", "Sicily", member="Palermo", radius=0)
    diff("geosearch", "Sicily", longitude=0, latitude=0, radius=10000, unit="km")
    diff("geosearch", "Sicily", longitude=15, latitude=37, radius=10, count=0)
    diff("geosearch", "Sicily", longitude=15, latitude=37, radius=10, count=0, any=True)
    diff("geosearch", "Sicily", longitude=15, latitude=37, width=0, height=0)
    diff("geosearch", "Sicily", member="Palermo", longitude=0, latitude=0, radius=10)
    diff("geosearch", "Sicily", member="Palermo", radius=10, sort="")
    diff("georadius", "Sicily", 15, 37, 0, unit="km")
    diff("georadius", "Sicily", 15, 37, 100, unit="km", count=0, any=True)


def test_geo_wire(wire):
    wire(lambda c: c.geoadd("g", [1.5, 2.5, "a", 3, 4, b"b"], nx=True, ch=True))
    wire(lambda c: c.geoadd("g", (1.5, 2.5, "a"), xx=True))
    wire(lambda c: c.geodist("g", "a", "b", unit="km"))
    wire(lambda c: c.georadius("g", 1.5, 2.5, 10, unit="mi", withdist=True, withcoord=True,
                               withhash=True, count=3, any=True, sort="DESC"))
    wire(lambda c: c.georadius("g", 1, 2, 10, store="d"))
    wire(lambda c: c.georadiusbymember("g", "a", 10, unit="ft", store_dist="d", count=4, sort="ASC"))
    wire(lambda c: c.geosearch("g", member="a", width=1, height=2, unit="km", sort="ASC", count=5,
                               any=True, withcoord=True, withdist=True, withhash=True))
    wire(lambda c: c.geosearch("g", longitude=1.25, latitude=-2.5, radius=0.5))
    wire(lambda c: c.geosearchstore("d", "g", longitude=1, latitude=2, radius=3, unit="km",
                                    storedist=True, count=2))
    wire(lambda c: c.geosearch("g", member=0, radius=10))
    wire(lambda c: c.geosearch("g", longitude=15, latitude=37, radius=10, count=0))


def test_python_level_argument_errors(diff):
    """Wrong argument *types* fail the same way (exception class) as in redis-py."""
    diff.setup(_places)
    diff("geoadd", "g", "1 2 x")  # a string is a sequence of 5 characters
    diff("geoadd", "g", 12)
    diff("geoadd", "g", None)
    diff("geoadd", "g", {1.0: 2.0})
    diff("geoadd", "g", [1.0, 2.0, None])
    diff("geodist", "Sicily", "Palermo", "Catania", unit=5)
    diff("geohash", "Sicily", None)
    diff("geopos", "Sicily", ["Palermo"])
    diff("georadius", "Sicily", None, 37, 200)
    diff("georadius", "Sicily", 15, 37, 200, unit=None)
    diff("georadius", "Sicily", 15, 37, 200, sort=5)
    diff("georadius", "Sicily", 15, 37, 200, count="2")
    diff("georadius", "Sicily", 15, 37, "200km")
    diff("georadiusbymember", "Sicily", None, 100)
    diff("geosearch", "Sicily", member="Palermo", radius=10, unit=5)
    diff("geosearch", "Sicily", member="Palermo", radius=10, sort=1)
    diff("geosearch", "Sicily", member="Palermo", radius=10, count="2")
    diff("geosearch", "Sicily", member=["Palermo"], radius=10)
    diff("geosearch", "Sicily", longitude="15", latitude="37", radius="10")
    diff("geosearchstore", None, "Sicily", member="Palermo", radius=10)


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_geo_in_pipeline(diff, transaction):
    """GEORADIUS/GEOSEARCH parse their reply according to the WITH* options: that
    must hold inside pipelines and MULTI/EXEC too."""
    diff.setup(_places)

    def run(c):
        p = c.pipeline(transaction=transaction)
        p.geoadd("Sicily", [1.0, 1.0, "x"], ch=True)
        p.geodist("Sicily", "Palermo", "Catania", unit="km")
        p.geohash("Sicily", "Palermo")
        p.geopos("Sicily", "Palermo", "missing")
        p.georadius("Sicily", 15, 37, 200, unit="km", withdist=True, withcoord=True, withhash=True,
                    sort="ASC")
        p.georadiusbymember("Sicily", "Palermo", 300, unit="km", withdist=True)
        p.geosearch("Sicily", member="Palermo", radius=300, unit="km", withcoord=True)
        p.geosearch("Sicily", longitude=15, latitude=37, width=400, height=400, unit="km",
                    withdist=True, withhash=True, sort="DESC", count=2)
        p.geosearchstore("dst", "Sicily", member="Palermo", radius=300, unit="km", storedist=True)
        p.zrange("dst", 0, -1, withscores=True)
        p.georadius("Sicily", 15, 37, 200, unit="km")
        return p.execute()

    diff.apply(run)
