// Command kube-claims-registries applies a k3s registries.yaml
// (/etc/rancher/k3s/registries.yaml) to the node's containerd the way k3s does: one
// certs.d/<registry>/hosts.toml per mirrored registry, each endpoint a host tried in order,
// then the registry itself. Written for the kube-claims node image, which is not k3s.
//
//	usage: kube-claims-registries REGISTRIES_YAML CERTS_D_DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

type registries struct {
	Mirrors map[string]struct {
		Endpoint []string          `json:"endpoint"`
		Rewrite  map[string]string `json:"rewrite"`
	} `json:"mirrors"`
	Configs map[string]struct {
		Auth *struct {
			Username string `json:"username"`
		} `json:"auth"`
		TLS *struct {
			CAFile             string `json:"ca_file"`
			CertFile           string `json:"cert_file"`
			KeyFile            string `json:"key_file"`
			InsecureSkipVerify bool   `json:"insecure_skip_verify"`
		} `json:"tls"`
	} `json:"configs"`
}

// defaultServer is where a registry name is served when no mirror answers.
func defaultServer(registry string) string {
	if registry == "docker.io" {
		return "https://registry-1.docker.io"
	}
	return "https://" + registry
}

// hostOf is the registry host of an endpoint URL, the key of its entry under configs.
func hostOf(endpoint string) string {
	h := strings.TrimPrefix(strings.TrimPrefix(endpoint, "https://"), "http://")
	return strings.SplitN(h, "/", 2)[0]
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: kube-claims-registries REGISTRIES_YAML CERTS_D_DIR")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "registries: %v\n", err)
		os.Exit(1)
	}
	var r registries
	if err := yaml.UnmarshalStrict(raw, &r); err != nil {
		fmt.Fprintf(os.Stderr, "registries: %s is not a valid registries.yaml: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	names := make([]string, 0, len(r.Mirrors))
	for name := range r.Mirrors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		m := r.Mirrors[name]
		if len(m.Rewrite) > 0 {
			fmt.Printf("registries: %s: rewrite rules are not supported by this node image; ignored\n", name)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "# Written from %s at node start.\n", os.Args[1])
		if name != "*" {
			fmt.Fprintf(&b, "server = %q\n", defaultServer(name))
		}
		for _, ep := range m.Endpoint {
			fmt.Fprintf(&b, "\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", ep)
			if c, ok := r.Configs[hostOf(ep)]; ok {
				if c.TLS != nil {
					if c.TLS.InsecureSkipVerify {
						b.WriteString("  skip_verify = true\n")
					}
					if c.TLS.CAFile != "" {
						fmt.Fprintf(&b, "  ca = %q\n", c.TLS.CAFile)
					}
					if c.TLS.CertFile != "" && c.TLS.KeyFile != "" {
						fmt.Fprintf(&b, "  client = [[%q, %q]]\n", c.TLS.CertFile, c.TLS.KeyFile)
					}
				}
				if c.Auth != nil {
					fmt.Printf("registries: %s: registry credentials are not supported by this node image; pulls are anonymous\n", hostOf(ep))
				}
			}
		}
		dir := filepath.Join(os.Args[2], map[bool]string{true: "_default", false: name}[name == "*"])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "registries: %v\n", err)
			os.Exit(1)
		}
		if err := os.WriteFile(filepath.Join(dir, "hosts.toml"), []byte(b.String()), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "registries: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("registries: %s mirrored by %s\n", name, strings.Join(m.Endpoint, ", "))
	}
}
