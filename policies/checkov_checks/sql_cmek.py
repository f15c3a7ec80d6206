"""RAE-SQL-001: a Cloud SQL instance is encrypted with a customer-managed key."""

from checkov.common.models.enums import CheckCategories

from policies.checkov_checks.catalog_check import CatalogCheck, attr


class SqlCustomerManagedKey(CatalogCheck):
    rule_id = "RAE-SQL-001"
    supported = ("google_sql_database_instance",)
    category = CheckCategories.ENCRYPTION

    def passes(self, conf) -> bool:
        return bool(attr(conf, "encryption_key_name"))


check = SqlCustomerManagedKey()
