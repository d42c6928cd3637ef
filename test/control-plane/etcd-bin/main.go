// Command etcd is etcd's own server entry point, built from the published module so that the test control plane
// can run the etcd release that matches the pinned Kubernetes version without downloading a binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
