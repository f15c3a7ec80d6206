"""pyinfra facts that read a node's effective security state; the deploys and hosts.verify both use them."""
