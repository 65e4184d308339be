// Go's os/signal as a receiving process for benches/latency (the sender is the bench, another
// process): signal.Notify into a channel, a goroutine receiving from it, and the main
// goroutine idle. It maps the page the bench passes as the first argument (four uint64
// words: arrivals, arrival time, armed, ready; benches/latency/shared.rs) and records each
// arrival the moment it comes out of the channel, with the runtime's CLOCK_MONOTONIC clock
// (the vDSO's, as the Rust receivers use), then wakes the sender's futex.
package main

import (
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"unsafe"
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

func main() {
	f, err := os.OpenFile(os.Args[1], os.O_RDWR, 0)
	if err != nil {
		panic(err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		panic(err)
	}
	words := (*[4]uint64)(unsafe.Pointer(&mem[0]))
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	go func() {
		for range c {
			atomic.StoreUint64(&words[1], uint64(nanotime()))
			atomic.AddUint64(&words[2], 1)
			atomic.AddUint64(&words[0], 1)
			// Wake the sender, asleep on the count's low half (FUTEX_WAKE, shared).
			syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&words[0])), 1, 1, 0, 0, 0)
		}
	}()
	atomic.StoreUint64(&words[2], 1)
	atomic.StoreUint64(&words[3], 1)
	select {}
}
