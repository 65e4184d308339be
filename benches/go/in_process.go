// The harness sigchan used before benches/latency (kept to show its flaw, run by
// benches/report.sh): the SENDING goroutine lives in the receiving Go process. kill(getpid())
// from a goroutine, then a receiving goroutine reads os/signal's channel; a 30 us time.Sleep
// between rounds and a 5-s time.After per round. Pinned with taskset, GOMAXPROCS is 1: the
// sender, the signal-handling goroutine and the receiver share one P, and the timers and the
// sleeping sender go through the netpoller, so a round pays for Go's scheduler handing that
// P around, not for os/signal. docs/PERFORMANCE.md compares it with latency.go (the same
// os/signal, the sender in another process, as for every other mechanism).
// Arguments: the file to write one nanosecond figure per round to, the number of rounds, and
// a mode: "sleep" (as it was), "busy-gap" (the gap spent spinning instead of in time.Sleep),
// "busy-gap-no-timer" (also waiting on the channel alone, no time.After). Prints p50/p90/p99.
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
	mode := "sleep"
	if len(os.Args) > 3 {
		mode = os.Args[3]
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
		if mode == "sleep" {
			time.Sleep(30 * time.Microsecond)
		} else {
			for end := time.Now().Add(30 * time.Microsecond); time.Now().Before(end); {
			}
		}
		t0 := nowNs()
		syscall.Kill(pid, syscall.SIGUSR1)
		if mode == "busy-gap-no-timer" {
			<-done
		} else {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				panic("signal lost")
			}
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
	fmt.Printf("go os/signal in-process sender (%s): p50 %.2f us, p90 %.2f us, p99 %.2f us (%d rounds)\n", mode, q(0.5), q(0.9), q(0.99), len(samples))
}
