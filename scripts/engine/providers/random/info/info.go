// Package info describes the bridged "random" Pulumi provider: the upstream
// Terraform provider plus the standard token mapping (everything in the
// "index" module, e.g. random_password -> random:index/randomPassword:RandomPassword).
package info

import (
	"os"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"

	"github.com/terraform-providers/terraform-provider-random/shim"
)

// Version is stamped at build time with -ldflags -X .../info.Version=X.
var Version = "0.0.0-dev"

// Provider returns the bridge description; metadata is bridge-metadata.json.
func Provider(metadata []byte) tfbridge.ProviderInfo {
	prov := tfbridge.ProviderInfo{
		P:                 pf.ShimProvider(shim.NewProvider()),
		Name:              "random",
		DisplayName:       "Random",
		Version:           Version,
		Publisher:         "Pulumi",
		License:           "Apache-2.0",
		Homepage:          "https://pulumi.io",
		Repository:        "https://github.com/pulumi/pulumi-random",
		GitHubOrg:         "hashicorp",
		Description:       "A Pulumi package to safely use randomness in Pulumi programs.",
		Keywords:          []string{"pulumi", "random"},
		MetadataInfo:      tfbridge.NewProviderMetadata(metadata),
		UpstreamRepoPath:  upstreamDir(),
		TFProviderVersion: "3.6.3",
		Python:            &tfbridge.PythonInfo{},
	}
	prov.MustComputeTokens(tokens.SingleModule("", "index", tokens.MakeStandard("random")))
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
