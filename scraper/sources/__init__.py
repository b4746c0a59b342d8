"""Address sites the scraper can read, by the name the config's `source` key uses."""
from scraper.sources.demo import DemoSource

SOURCES = {DemoSource.name: DemoSource}
