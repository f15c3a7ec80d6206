"""The database-instance posture model: a Cloud SQL instance in one vocabulary, one small function per requirement.

Adapters build the view from pulumi-gcp `gcp.sql.DatabaseInstance` inputs (`from_pulumi`) and a Terraform plan's or
checkov's `google_sql_database_instance` values (`from_terraform`). The component (components.postgres.
CloudSqlPostgres), the CrossGuard rules RAE-SQL-00x and the checkov custom check RAE-SQL-001 call `judge`; none
restates a requirement.

Allow-lists: the SSL mode is the baseline's (client certificates required); the server CA mode is one of the
baseline's Certificate Authority Service modes (unset is the provider's per-instance CA, so it fails), and
CUSTOMER_MANAGED_CAS_CA names the pool of our own that issues the certificate in serverCaPool; every
authorized network sits inside NETWORK.ingress_sources_allowed (0.0.0.0/0, or a range split to look narrow, is the
internet); the database flags hold the baseline's values, and a different pgaudit.log is judged class by class on
what it puts at stake.

Example: judge(from_pulumi("db", {"settings": {"ipConfiguration": {"ipv4Enabled": True}}}))
"""

from dataclasses import dataclass, field
from typing import Iterator

from baseline import BACKUP, DATABASE, KMS, NETWORK
from posture.model import Requirement, Unknown, is_unknown, items, judge_requirements, one, pick, rule_ids
from posture.network import outside_allowed


@dataclass(frozen=True)
class InstanceView:
    """A Cloud SQL instance, whatever described it.

    + server_ca_pool: settings.ipConfiguration.serverCaPool, the CA Service pool CUSTOMER_MANAGED_CAS_CA issues from
    + authorized_networks: the CIDR values of settings.ipConfiguration.authorizedNetworks
    + deletion_protection: the provider's resource-level guard (None where unset: the provider defaults it on)
    + flags: database flag name -> value (as strings)
    + unknown: fields whose value the source could not resolve
    """

    source: str
    name: str
    kms_key: str = ""
    ssl_mode: object = None
    server_ca_mode: object = None
    server_ca_pool: object = None
    ipv4_enabled: object = None
    authorized_networks: tuple[str, ...] = ()
    backups_enabled: object = None
    retained_backups: object = None
    backup_start_time: object = None
    point_in_time_recovery: object = None
    transaction_log_retention_days: object = None
    deletion_protection: object = None
    deletion_protection_enabled: object = None
    flags: dict = field(default_factory=dict)
    unknown: frozenset = frozenset()


def _cmek(view, _context=None) -> Iterator[str]:
    if KMS.cmek_required and not view.kms_key:
        yield "encryptionKeyName is not set: Google-managed keys only"


def _ssl_mode(view, _context=None) -> Iterator[str]:
    if view.ssl_mode != DATABASE.gcp_ssl_mode:
        yield f"settings.ipConfiguration.sslMode is {view.ssl_mode!r}, the baseline requires {DATABASE.gcp_ssl_mode!r}"


# The mode whose certificate comes from a CA Service pool of our own, named in serverCaPool.
CUSTOMER_CA_MODE = "CUSTOMER_MANAGED_CAS_CA"


def _server_ca(view, _context=None) -> Iterator[str]:
    allowed, controls = DATABASE.gcp_server_ca_mode, ", ".join(DATABASE.controls("gcp_server_ca_mode"))
    if view.server_ca_mode in (None, ""):
        yield (f"settings.ipConfiguration.serverCaMode is not set: the provider's default is the per-instance "
               f"GOOGLE_MANAGED_INTERNAL_CA; the baseline allows {list(allowed)} [{controls}]")
    elif view.server_ca_mode not in allowed:
        yield (f"settings.ipConfiguration.serverCaMode is {view.server_ca_mode!r}, the baseline allows "
               f"{list(allowed)} [{controls}]")
    elif view.server_ca_mode == CUSTOMER_CA_MODE:
        # The pool is read only for this mode: an unresolved pool under another mode leaves nothing undecided.
        if "server_ca_pool" in view.unknown:
            yield Unknown(f"settings.ipConfiguration.serverCaPool of {view.name} could not be resolved "
                          f"({view.source}) under serverCaMode {CUSTOMER_CA_MODE!r}; not judged, so not passed "
                          f"[{controls}]")
        elif view.server_ca_pool is None or (isinstance(view.server_ca_pool, str) and not view.server_ca_pool.strip()):
            yield (f"settings.ipConfiguration.serverCaMode is {CUSTOMER_CA_MODE!r} but "
                   f"settings.ipConfiguration.serverCaPool names no CA Service pool: that mode issues the server "
                   f"certificate from a pool of our own, and none is named [{controls}]")


def _private_only(view, _context=None) -> Iterator[str]:
    if view.ipv4_enabled is not NETWORK.database_public_ip:
        yield "settings.ipConfiguration.ipv4Enabled is not False: the instance gets a public IP"
    outside = [network for network in view.authorized_networks if outside_allowed(network)]
    if outside:
        yield (f"authorized networks {outside} are outside the allowed source ranges "
               f"{list(NETWORK.ingress_sources_allowed)}: the internet may connect")


def _backups(view, _context=None) -> Iterator[str]:
    if view.backups_enabled is not True:
        yield "settings.backupConfiguration.enabled is not True"
    elif isinstance(view.retained_backups, (int, float)) and view.retained_backups < BACKUP.retained_backups:
        yield f"retainedBackups is {view.retained_backups:g}, the baseline keeps {BACKUP.retained_backups}"


def _backup_window(view, _context=None) -> Iterator[str]:
    if view.backup_start_time != BACKUP.start_time:
        yield (f"settings.backupConfiguration.startTime is {view.backup_start_time!r}, the baseline runs backups at "
               f"{BACKUP.start_time} UTC")


def _point_in_time_recovery(view, _context=None) -> Iterator[str]:
    if view.point_in_time_recovery is not BACKUP.point_in_time_recovery:
        yield "settings.backupConfiguration.pointInTimeRecoveryEnabled is not True"
    days = view.transaction_log_retention_days
    if not isinstance(days, (int, float)) or isinstance(days, bool) or days < BACKUP.transaction_log_retention_days:
        yield (f"settings.backupConfiguration.transactionLogRetentionDays is {days!r}, the baseline keeps "
               f"{BACKUP.transaction_log_retention_days} days of transaction logs")


def _deletion_protection(view, _context=None) -> Iterator[str]:
    # The provider's deletionProtection defaults to true; only an explicit False weakens it.
    if view.deletion_protection is False:
        yield "deletionProtection is False"
    if view.deletion_protection_enabled is not DATABASE.deletion_protection:
        yield "settings.deletionProtectionEnabled is not True"


def _classes(value: str) -> set[str]:
    return {part.strip().lower() for part in str(value).split(",") if part.strip()}


def pgaudit_stakes(value: str) -> list[str]:
    """What a pgaudit.log value other than the baseline's puts at stake, class by class."""
    wanted, got = _classes(DATABASE.gcp_extra_flags["pgaudit.log"]), _classes(value)
    if "all" in got:
        got = (got - {"all"}) | wanted | {"all"}
    stakes = DATABASE.pgaudit_class_stakes
    found = []
    for added in sorted(got - wanted):
        effect, controls = stakes.get(added.lstrip("-"), ("is not in the baseline and no review recorded what it "
                                                          "logs", ("A.8.15",)))
        found.append(f"pgaudit.log = {value!r} adds {added!r}: {effect} [{', '.join(controls)}]")
    for removed in sorted(wanted - got):
        effect, controls = stakes[removed]
        found.append(f"pgaudit.log = {value!r} drops {removed!r}: {effect} [{', '.join(controls)}]")
    return found


def _flags(view, _context=None) -> Iterator[str]:
    wanted = DATABASE.log_flags | DATABASE.gcp_extra_flags
    missing = sorted(name for name in wanted if name not in view.flags)
    if missing:
        yield f"database flags {missing} are missing: {DATABASE.setting('log_flags').why}"
    for name, value in sorted(wanted.items()):
        if name in view.flags and view.flags[name] != value:
            if name == "pgaudit.log":
                yield from pgaudit_stakes(view.flags[name])
            else:
                why = DATABASE.setting("log_flags" if name in DATABASE.log_flags else "gcp_extra_flags").why
                yield f"{name} = {view.flags[name]!r} instead of {value!r}: {why}"


REQUIREMENTS: dict[str, Requirement] = {
    "cmek": Requirement("RAE-SQL-001", ((KMS, "cmek_required"),), ("kms_key",), _cmek),
    "ssl_mode": Requirement("RAE-SQL-002", ((DATABASE, "gcp_ssl_mode"),), ("ssl_mode",), _ssl_mode),
    "private_only": Requirement("RAE-SQL-003", ((NETWORK, "database_public_ip"), (NETWORK, "ingress_sources_allowed")),
                                ("ipv4_enabled", "authorized_networks"), _private_only),
    "backups": Requirement("RAE-SQL-004", ((BACKUP, "retained_backups"),), ("backups_enabled", "retained_backups"),
                           _backups),
    "backup_window": Requirement("RAE-SQL-004", ((BACKUP, "start_time"),), ("backup_start_time",), _backup_window),
    "point_in_time_recovery": Requirement("RAE-SQL-005", ((BACKUP, "point_in_time_recovery"),
                                                          (BACKUP, "transaction_log_retention_days")),
                                          ("point_in_time_recovery", "transaction_log_retention_days"),
                                          _point_in_time_recovery),
    "deletion_protection": Requirement("RAE-SQL-006", ((DATABASE, "deletion_protection"),),
                                       ("deletion_protection", "deletion_protection_enabled"), _deletion_protection),
    "flags": Requirement("RAE-SQL-007", ((DATABASE, "log_flags"), (DATABASE, "gcp_extra_flags")), ("flags",), _flags),
    "server_ca": Requirement("RAE-SQL-008", ((DATABASE, "gcp_server_ca_mode"),), ("server_ca_mode",), _server_ca),
}
RULE_IDS: tuple[str, ...] = rule_ids(REQUIREMENTS)


def judge(view: InstanceView, rule_id: str | None = None) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (str) or undecided requirement (posture.Unknown) as (name, requirement, message)."""
    return judge_requirements(REQUIREMENTS, view, None, rule_id)


_IP = ("settings", "ipConfiguration")
_BACKUP = ("settings", "backupConfiguration")
# view field -> Pulumi (camelCase) path; Terraform's is the same in snake_case.
_PATHS = {
    "kms_key": ("encryptionKeyName",), "ssl_mode": (*_IP, "sslMode"), "server_ca_mode": (*_IP, "serverCaMode"),
    "server_ca_pool": (*_IP, "serverCaPool"),
    "ipv4_enabled": (*_IP, "ipv4Enabled"),
    "authorized_networks": (*_IP, "authorizedNetworks"), "backups_enabled": (*_BACKUP, "enabled"),
    "retained_backups": (*_BACKUP, "backupRetentionSettings", "retainedBackups"),
    "backup_start_time": (*_BACKUP, "startTime"),
    "point_in_time_recovery": (*_BACKUP, "pointInTimeRecoveryEnabled"),
    "transaction_log_retention_days": (*_BACKUP, "transactionLogRetentionDays"),
    "deletion_protection": ("deletionProtection",), "deletion_protection_enabled": ("settings", "deletionProtectionEnabled"),
    "flags": ("settings", "databaseFlags"),
}


def _view(name: str, props: dict, terraform: bool, source: str) -> InstanceView:
    raw = {key: pick(props, path, terraform) for key, path in _PATHS.items()}
    values = {key: one(value) for key, value in raw.items()}
    networks = tuple(str(one(entry.get("value")) if isinstance(entry, dict) else entry)
                     for entry in items(raw["authorized_networks"]))
    flags = {str(one(entry.get("name"))): str(one(entry.get("value")))
             for entry in items(raw["flags"]) if isinstance(entry, dict)}
    return InstanceView(
        source=source, name=name, kms_key=str(values["kms_key"] or ""), ssl_mode=values["ssl_mode"],
        server_ca_mode=values["server_ca_mode"], server_ca_pool=values["server_ca_pool"],
        ipv4_enabled=values["ipv4_enabled"], authorized_networks=networks,
        backups_enabled=values["backups_enabled"],
        retained_backups=values["retained_backups"], backup_start_time=values["backup_start_time"],
        point_in_time_recovery=values["point_in_time_recovery"],
        transaction_log_retention_days=values["transaction_log_retention_days"],
        deletion_protection=values["deletion_protection"],
        deletion_protection_enabled=values["deletion_protection_enabled"], flags=flags,
        unknown=frozenset(key for key, value in raw.items() if is_unknown(value)))


def from_pulumi(name: str, props: dict) -> InstanceView:
    """pulumi-gcp `gcp:sql/databaseInstance:DatabaseInstance` inputs (camelCase)."""
    return _view(name, props, False, "pulumi-gcp")


def from_terraform(name: str, values: dict) -> InstanceView:
    """A Terraform `google_sql_database_instance`'s values (snake_case; blocks, and in checkov every value, in lists)."""
    return _view(name, values, True, "terraform plan")


__all__ = ["CUSTOMER_CA_MODE", "InstanceView", "REQUIREMENTS", "RULE_IDS", "from_pulumi", "from_terraform", "judge",
           "pgaudit_stakes"]
