// Exposes the upstream provider's internal constructor to the bridge. Its
// module path sits under the upstream module so Go allows the internal import.
module github.com/hashicorp/terraform-provider-tls/shim

go 1.25.11

require github.com/hashicorp/terraform-provider-tls v1.2.1-0.20260130152455-857b38cda3fc
