"""What every source returns, whatever its site: an ADDRESS's keys and the id that names it."""
import re

ADDRESS_KEYS = ("id", "road_address", "jibun_address", "english_address", "zip", "building",
                "sido", "sigungu", "eupmyeondong")
# The opaque id a search result carries and a detail lookup takes back (the contract's `id`).
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
