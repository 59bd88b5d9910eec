// pause: the process that holds a Pod sandbox's namespaces. It does nothing but wait: it exits 0
// on SIGTERM or SIGINT, and reaps any child that is reparented to it (it is PID 1 of the Pod when
// the Pod shares its PID namespace). Built here as a static binary, because the node has no
// registry to pull registry.k8s.io/pause from (docker/kube-node/build.sh).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		os.Stdout.WriteString("pgchaos pause 1\n")
		return
	}
	sig := make(chan os.Signal, 8)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sig {
		if s == syscall.SIGCHLD {
			for {
				var ws syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		os.Exit(0)
	}
}
