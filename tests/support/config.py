"""An INI config for the service under test: the repo defaults with some keys replaced."""
from tests.support.browsers import LINE


def write_config(path, cors=None, scraper=None, cache=None):
    """Write an INI config: the repo defaults, with the given keys replaced."""
    sections = {
        "cors": {"origins": "https://blog.example.com http://localhost:4000",
                 "paths": "/searchaddr1 /searchaddr2", "max_age": "600",
                 "allow_headers": "Content-Type"},
        "scraper": {"source": "demo", "browsers": "2", "checkout_timeout": "2",
                    "page_timeout": "8", "recycle_after": "200", "line": LINE},
        "cache": {"ttl": "300", "size": "2000"},
    }
    for name, values in (("cors", cors), ("scraper", scraper), ("cache", cache)):
        sections[name].update(values or {})
    with open(path, "w", encoding="utf-8") as file:
        for name, values in sections.items():
            file.write(f"[{name}]\n")
            file.writelines(f"{key} = {value}\n" for key, value in values.items() if value is not None)
    return str(path)
