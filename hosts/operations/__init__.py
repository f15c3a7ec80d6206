"""pyinfra operations of the host baseline: each reads facts first and yields only what closes the gap."""
