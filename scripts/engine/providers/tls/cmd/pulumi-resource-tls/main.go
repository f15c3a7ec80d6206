//go:generate go run ./generate.go

// Command pulumi-resource-tls is the bridged Pulumi provider plugin.
package main

import (
	"context"
	_ "embed"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"pulumi-engine-provider-tls/info"
)

//go:embed schema-embed.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	pf.Main(context.Background(), "tls", info.Provider(metadata), pf.ProviderMetadata{PackageSchema: schema})
}
