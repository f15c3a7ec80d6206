// Exposes the upstream provider's internal constructor to the bridge. Its
// module path sits under the upstream module so Go allows the internal import.
module github.com/terraform-providers/terraform-provider-random/shim

go 1.25.11

require github.com/terraform-providers/terraform-provider-random v1.3.2-0.20240911140632-e546ae44b440
