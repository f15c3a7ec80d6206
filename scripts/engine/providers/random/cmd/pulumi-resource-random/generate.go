//go:build ignore

// generate.go writes schema-embed.json: schema.json (from tfgen) with the
// plugin version stamped in and compacted. Run with VERSION=x.y.z.
package main

import (
	"encoding/json"
	"log"
	"os"
)

func main() {
	version := os.Getenv("VERSION")
	if version == "" {
		log.Fatal("VERSION is not set")
	}
	raw, err := os.ReadFile("schema.json")
	if err != nil {
		log.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		log.Fatalf("cannot parse schema.json: %v", err)
	}
	spec["version"] = version
	out, err := json.Marshal(spec)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("schema-embed.json", out, 0o600); err != nil {
		log.Fatal(err)
	}
}
