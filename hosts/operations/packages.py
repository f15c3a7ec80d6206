"""apt: Debian's security suite among the node's sources (baseline.PACKAGES.security_suite)."""

from pyinfra import host
from pyinfra.api import OperationError, operation
from pyinfra.facts.apt import AptSources
from pyinfra.facts.server import LinuxDistribution

from baseline import PACKAGES
from hosts.operations.harden import _put_text

SECURITY_SOURCE_PATH = "/etc/apt/sources.list.d/debian-security.list"


def node_codename(distribution: dict) -> str | None:
    """The release codename (bookworm) from pyinfra's LinuxDistribution fact."""
    meta = distribution.get("release_meta") or {}
    return meta.get("VERSION_CODENAME") or meta.get("CODENAME")


def security_suite(codename: str | None) -> str | None:
    """The suite name the baseline requires, e.g. bookworm-security."""
    return PACKAGES.security_suite.format(codename=codename) if codename else None


def has_security_suite(sources: list, codename: str | None) -> bool:
    """Whether an enabled deb source names the security suite of this release."""
    wanted = security_suite(codename)
    return bool(wanted) and any(source["type"] == "deb" and source["distribution"] == wanted for source in sources)


def derived_security_mirror(sources: list) -> str | None:
    """Debian's convention: the security archive sits beside the main one (…/debian -> …/debian-security)."""
    for source in sources:
        url = source["url"].rstrip("/")
        if source["type"] == "deb" and url.endswith("/debian"):
            return f"{url}-security"
    return None


@operation()
def security_source(mirror: str | bool | None = None):
    """Add Debian's security suite to the apt sources when the node has none.

    + mirror: the security archive's URL; None derives it from the node's Debian source; False: the operator
      does not allow adding it (the node is then reported, by hosts.verify, as lacking security updates)
    """
    sources = host.get_fact(AptSources)
    codename = node_codename(host.get_fact(LinuxDistribution))
    suite = security_suite(codename)
    if has_security_suite(sources, codename):
        host.noop(f"apt sources include {suite}")
        return
    if mirror is False:
        host.noop(f"apt sources lack {suite}; not added (host data apt_security_mirror is false) [ISO 27001:2022 A.8.8]")
        return
    url = mirror or derived_security_mirror(sources)
    if not suite or not url:
        raise OperationError(f"apt sources lack {suite or 'a security suite (release codename unknown)'} and name no "
                             "Debian archive to derive its mirror from: set host data apt_security_mirror "
                             "[ISO 27001:2022 A.8.8]")
    components = next((source["components"] for source in sources if source["type"] == "deb"), ["main"])
    yield from _put_text(f"deb {url} {suite} {' '.join(components)}\n", SECURITY_SOURCE_PATH, "0644")

