// pause: the process that holds a Kubernetes pod sandbox's namespaces open.
//
// The kind node image needs a `registry.k8s.io/pause` image and no container registry is
// reachable here, so the image is this static binary FROM scratch (scripts/kind/).
// It does what the upstream pause does: as PID 1 of the pod it sleeps until SIGINT or
// SIGTERM and reaps every child that is re-parented to it, so no zombie piles up.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		// One SIGCHLD may stand for several exited children: reap until none is left.
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
