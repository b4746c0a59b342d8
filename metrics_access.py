"""Which clients may read /metrics, by the address they come from ([metrics] allow)."""
import ipaddress


class ReadAccess:
    """Who may read /metrics: addresses, networks and `unix` (a client of the uWSGI unix socket
    that gives no address, or of an nginx unix listener), compiled once from [metrics] allow."""

    def __init__(self, allowed):
        self.unix = "unix" in allowed
        self.networks = tuple(ipaddress.ip_network(item, strict=False)
                              for item in allowed if item != "unix")

    def allows(self, remote_addr):
        if not remote_addr or remote_addr == "unix:":
            return self.unix
        try:
            address = ipaddress.ip_address(remote_addr.split("%", 1)[0])
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)
