// Command pulumi-tfgen-random generates schema.json and bridge-metadata.json
// (`pulumi-tfgen-random schema --out DIR`), as the provider repositories do.
package main

import (
	"os"

	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"pulumi-engine-provider-random/info"
)

func main() {
	meta, err := os.ReadFile(os.Getenv("BRIDGE_METADATA"))
	if err != nil || len(meta) == 0 {
		meta = []byte("{}")
	}
	pftfgen.Main("random", info.Provider(meta))
}
