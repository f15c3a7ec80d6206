"""RAE-SQL-001: a Cloud SQL instance is encrypted with a customer-managed key (posture.database states it)."""

from checkov.common.models.enums import CheckCategories

import posture.database as database
from policies.checkov_checks.catalog_check import CatalogCheck, model_result


class SqlCustomerManagedKey(CatalogCheck):
    rule_id = "RAE-SQL-001"
    supported = ("google_sql_database_instance",)
    category = CheckCategories.ENCRYPTION

    def scan_resource_conf(self, conf):
        return model_result(database.judge(database.from_terraform("google_sql_database_instance", conf),
                                           self.rule_id))


check = SqlCustomerManagedKey()
