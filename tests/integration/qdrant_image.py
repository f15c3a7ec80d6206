"""The Qdrant image the runtime test needs. It cannot be pulled here (no registry is reachable), so the
test runs wherever an operator has loaded it (`docker load`, or a pull where a registry is reachable).

RAE_QDRANT_IMAGE overrides the reference; the container itself always runs by the local image id.
"""

import os

import docker

QDRANT_IMAGE = os.environ.get("RAE_QDRANT_IMAGE", "qdrant/qdrant:v1.13.4")


def qdrant_image_present(client) -> bool:
    """Whether QDRANT_IMAGE is on this engine."""
    try:
        client.images.get(QDRANT_IMAGE)
    except docker.errors.ImageNotFound:
        return False
    return True
