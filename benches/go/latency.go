// Go's os/signal round trip, measured the way benches/latency.rs measures the Rust variants:
// kill(getpid(), SIGUSR1) in the sending goroutine until the signal comes out of the channel
// in a receiving goroutine, with a pause between rounds so the receiver is asleep when each
// round starts. Unlike the Rust harness, the sender blocks on a channel instead of spinning
// with Gosched: with one P (pinned), a spinning goroutine delays the runtime's handoff of the
// woken signal goroutine by milliseconds, which would measure the harness, not os/signal.
// Writes one nanosecond figure per round to the file named by the first argument and prints
// p50/p90/p99. Run pinned with `taskset -c 0` (benches/go/run.sh does both placements).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

var base = time.Now()

func nowNs() int64 { return int64(time.Since(base)) }

func main() {
	out := os.Args[1]
	rounds := 100000
	if len(os.Args) > 2 {
		rounds, _ = strconv.Atoi(os.Args[2])
	}
	var arrivedAt atomic.Int64
	c := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(c, syscall.SIGUSR1)
	go func() {
		for range c {
			arrivedAt.Store(nowNs())
			done <- struct{}{}
		}
	}()
	pid := syscall.Getpid()
	samples := make([]int64, 0, rounds)
	for i := 0; i < rounds; i++ {
		time.Sleep(30 * time.Microsecond)
		t0 := nowNs()
		syscall.Kill(pid, syscall.SIGUSR1)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			panic("signal lost")
		}
		samples = append(samples, arrivedAt.Load()-t0)
	}
	f, err := os.Create(out)
	if err != nil {
		panic(err)
	}
	for _, s := range samples {
		fmt.Fprintln(f, s)
	}
	f.Close()
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	q := func(p float64) float64 { return float64(samples[int(p*float64(len(samples)-1))]) / 1000 }
	fmt.Printf("go os/signal: p50 %.2f us, p90 %.2f us, p99 %.2f us (%d rounds)\n", q(0.5), q(0.9), q(0.99), len(samples))
}
