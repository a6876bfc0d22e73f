// Command esxisim serves simulated vCenters (esxisim.Scaled estates) in a
// process of its own, so a benchmark measures hvaudit's time and memory
// apart from the simulator's. It prints one JSON line per vCenter
// (endpoint, user, password, thumbprint) once all are listening, then
// serves until standard input closes or it is signalled: a parent that
// dies takes its simulators with it.
//
//	esxisim -hosts 100 -vms 10000
//	esxisim -count 50 -hosts 2 -vms 40 -delay 30ms
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
)

// Endpoint is one line of the command's output.
type Endpoint struct {
	URL        string `json:"url"`
	Host       string `json:"host"`
	Username   string `json:"username"`
	Password   string `json:"password"`
	Thumbprint string `json:"thumbprint"`
	// SetupMS is how long building the estate took (not part of any audit).
	SetupMS int64 `json:"setup_ms"`
}

func main() {
	hosts := flag.Int("hosts", 100, "hosts per simulated vCenter")
	vms := flag.Int("vms", 5000, "VMs per simulated vCenter")
	count := flag.Int("count", 1, "simulated vCenters to serve")
	delay := flag.Duration("delay", 0, "latency added to every SOAP call (millisecond resolution)")
	flag.Parse()
	if *hosts < 1 || *vms < 0 || *count < 1 {
		fmt.Fprintln(os.Stderr, "esxisim: -hosts and -count must be at least 1, -vms at least 0")
		os.Exit(2)
	}
	var sims []*esxisim.Sim
	stop := func() {
		for _, s := range sims {
			s.Close()
		}
	}
	out := json.NewEncoder(os.Stdout)
	for i := 0; i < *count; i++ {
		start := time.Now()
		s, err := esxisim.Start(context.Background(), esxisim.Scaled(*hosts, *vms), esxisim.Options{Delay: *delay})
		if err != nil {
			stop()
			fmt.Fprintf(os.Stderr, "esxisim: vCenter %d: %v\n", i+1, err)
			os.Exit(1)
		}
		sims = append(sims, s)
		e := Endpoint{URL: s.URL.String(), Host: s.URL.Host, Username: s.Username, Password: s.Password,
			Thumbprint: s.Thumbprint, SetupMS: time.Since(start).Milliseconds()}
		if err := out.Encode(e); err != nil {
			stop()
			os.Exit(1)
		}
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	stop()
}
