"""The two geocoders behind :class:`service_layer.geocoding.Geocoder`.

``EmbeddedGeocoder``: the postcode-area (PC4) centres of Fryslân shipped in this
package (``data/friesland_pc4.csv``, source in ``friesland_pc4.meta.md``); no network,
always approximate.

``PdokGeocoder``: PDOK Locatieserver, the Dutch government's free address service
(``/bzk/locatieserver/search/v3_1/free``); exact, with a short timeout and an in-process
cache. Anything but a well-formed answer (timeout, refused, 5xx, not JSON, not PDOK's
shape) is :class:`GeocoderUnavailable`: the caller falls back, never waits.
"""

from __future__ import annotations

import csv
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests
import structlog

from ..domain.addresses import DutchAddress, Located, Precision
from ..service_layer.geocoding import AddressLookup, GeocoderUnavailable, UnknownAddress

log = structlog.get_logger(__name__)

PC4_CSV = Path(__file__).resolve().parents[1] / "data" / "friesland_pc4.csv"
PDOK_SEARCH = "/bzk/locatieserver/search/v3_1/free"
_POINT = re.compile(r"^\s*POINT\s*\(\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*\)\s*$")


class EmbeddedGeocoder:
    """Approximate: the centre of the address's 4-digit postcode area, with its place name."""

    def __init__(self, path: Path = PC4_CSV):
        with path.open(encoding="utf-8", newline="") as f:
            self._areas = {row["postcode4"]: (float(row["lat"]), float(row["lon"]), row["place"] or None)
                           for row in csv.DictReader(f)}

    def locate(self, address: DutchAddress) -> Located:
        area = self._areas.get(address.postcode4)
        if area is None:
            raise UnknownAddress(address.postcode4)
        lat, lon, place = area
        return Located(lat=lat, lon=lon, precision=Precision.POSTCODE4, postcode=address.postcode, place=place)


class _TtlCache:
    """A small LRU with a time to live: addresses do not move, but a day is plenty."""

    def __init__(self, max_size: int, ttl_s: float, clock: Callable[[], float] = time.monotonic):
        self._items: OrderedDict[DutchAddress, tuple[float, Located | None]] = OrderedDict()
        self._max_size, self._ttl_s, self._clock = max_size, ttl_s, clock
        self._lock = threading.Lock()

    def get(self, key: DutchAddress) -> tuple[bool, Located | None]:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] < self._clock():
                self._items.pop(key, None)
                return False, None
            self._items.move_to_end(key)
            return True, hit[1]

    def put(self, key: DutchAddress, value: Located | None) -> None:
        with self._lock:
            self._items[key] = (self._clock() + self._ttl_s, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max_size:
                self._items.popitem(last=False)


class PdokGeocoder:
    """Exact addresses from PDOK Locatieserver at ``base_url``.

    Known and unknown answers are cached (``cache_size`` entries for ``cache_ttl_s``);
    failures are not, so the next call tries again.
    """

    def __init__(self, base_url: str, *, timeout_s: float = 2.0, cache_size: int = 4096,
                 cache_ttl_s: float = 24 * 3600, session: requests.Session | None = None):
        self._url = base_url.rstrip("/") + PDOK_SEARCH
        self._timeout_s = timeout_s
        self._cache = _TtlCache(cache_size, cache_ttl_s)
        self._session = session or requests.Session()

    def locate(self, address: DutchAddress) -> Located:
        known, cached = self._cache.get(address)
        if not known:
            cached = self._ask(address)
            self._cache.put(address, cached)
        if cached is None:
            raise UnknownAddress(address.postcode)
        return cached

    def _ask(self, address: DutchAddress) -> Located | None:
        params = {"q": address.as_query(), "fq": "type:adres", "rows": "1"}
        try:
            response = self._session.get(self._url, params=params, timeout=self._timeout_s,
                                         headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            log.warning("intake.geocoder_unavailable", geocoder="pdok", error=type(exc).__name__)
            raise GeocoderUnavailable(f"PDOK: {type(exc).__name__}") from exc
        if response.status_code != 200:
            log.warning("intake.geocoder_unavailable", geocoder="pdok", status=response.status_code)
            raise GeocoderUnavailable(f"PDOK answered {response.status_code}")
        try:
            docs = response.json()["response"]["docs"]
            if not isinstance(docs, list):
                raise TypeError("docs is not a list")
            return _located(docs[0], address) if docs else None
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            log.warning("intake.geocoder_unavailable", geocoder="pdok", error=f"malformed answer: {exc}")
            raise GeocoderUnavailable("PDOK answered in an unknown shape") from exc


def _located(doc: Mapping[str, Any], address: DutchAddress) -> Located | None:
    """PDOK's best match, if it is this address (a free search also returns neighbours)."""
    point = _POINT.match(str(doc["centroide_ll"]))
    if point is None:
        raise ValueError("centroide_ll is not POINT(lon lat)")
    lon, lat = float(point.group(1)), float(point.group(2))
    postcode = str(doc.get("postcode") or "").replace(" ", "").upper()
    if postcode != address.postcode.replace(" ", "") or str(doc.get("huisnummer")) != address.house_number:
        return None
    return Located(lat=lat, lon=lon, precision=Precision.EXACT, postcode=address.postcode,
                   street=doc.get("straatnaam") or None, place=doc.get("woonplaatsnaam") or None)


def build_lookup(kind: str, url: str, *, timeout_s: float = 2.0) -> AddressLookup:
    """``MIENSKIP_GEOCODER``: ``embedded`` (default) or ``pdok`` (with the embedded one behind it)."""
    embedded = EmbeddedGeocoder()
    if kind == "embedded":
        return AddressLookup(embedded)
    if kind == "pdok":
        if not url:
            raise ValueError("MIENSKIP_GEOCODER=pdok needs MIENSKIP_GEOCODER_URL (e.g. https://api.pdok.nl)")
        return AddressLookup(PdokGeocoder(url, timeout_s=timeout_s), fallback=embedded)
    raise ValueError(f"MIENSKIP_GEOCODER must be embedded or pdok, not {kind!r}")
