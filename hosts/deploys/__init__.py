"""pyinfra deploys of the host baseline; hosts/deploys/node1.py runs them all."""
