from .fixtures import dns_server, dns_settings, resolver, silent_server, truncating_server  # noqa: F401
