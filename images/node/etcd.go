// Command etcd starts etcd's server from the go.etcd.io/etcd/server/v3 module (whose own main
// lives in a module with local replace directives, so it cannot be built by version).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
