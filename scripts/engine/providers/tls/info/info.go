// Package info describes the bridged "tls" Pulumi provider: the upstream
// Terraform provider plus the standard token mapping (everything in the
// "index" module, e.g. tls_private_key -> tls:index/privateKey:PrivateKey).
package info

import (
	"os"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"

	"github.com/hashicorp/terraform-provider-tls/shim"
)

// Version is stamped at build time with -ldflags -X .../info.Version=X.
var Version = "0.0.0-dev"

// Provider returns the bridge description; metadata is bridge-metadata.json.
func Provider(metadata []byte) tfbridge.ProviderInfo {
	prov := tfbridge.ProviderInfo{
		P:                 pf.ShimProvider(shim.NewProvider()),
		Name:              "tls",
		DisplayName:       "TLS",
		Version:           Version,
		Publisher:         "Pulumi",
		License:           "Apache-2.0",
		Homepage:          "https://pulumi.io",
		Repository:        "https://github.com/pulumi/pulumi-tls",
		GitHubOrg:         "hashicorp",
		Description:       "A Pulumi package to create TLS resources in Pulumi programs.",
		Keywords:          []string{"pulumi", "tls"},
		MetadataInfo:      tfbridge.NewProviderMetadata(metadata),
		UpstreamRepoPath:  upstreamDir(),
		TFProviderVersion: "4.2.1",
		Python:            &tfbridge.PythonInfo{},
	}
	prov.MustComputeTokens(tokens.SingleModule("tls_", "index", tokens.MakeStandard("tls")))
	return prov
}

// upstreamDir is where tfgen reads the upstream docs (docs/, website/) from:
// the upstream module directory, passed by scripts/engine.sh at schema time.
func upstreamDir() string {
	if dir := os.Getenv("PULUMI_TFGEN_UPSTREAM_DIR"); dir != "" {
		return dir
	}
	return "."
}
