"""Whole stacks built from the components: `local` (Docker on this host or Node1) and `gcp` (production)."""
