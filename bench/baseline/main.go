// Command baseline is the yardstick of lpbench's generator cost: the consumer journey's HTTP
// calls in a plain loop (bench.Plain), with none of lpbench's bookkeeping.
//
// It looks up the domains (CSDS) once and fetches one AppJWT, then runs -journeys journeys, each
// ConsumerJWS → CONVERSATION → first SEND → close, on -workers goroutines. A pacing loop releases
// journey n at n/-rate seconds, so that its requests per second match an lpbench run at the same
// rate (with -rate 0 the workers run flat out).
//
// With -timing it also times each CONVERSATION and first SEND (time.Since around the request and
// the reading of its answer) and prints their medians: a minimal client's view of the same
// requests, next to which lpbench's step times are judged.
//
// Measure it from outside (GNU time, or /proc/PID/stat), as lpbench is measured. It prints one
// line: journeys, failed journeys, elapsed time, achieved rate and its own CPU time.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lpbench/lpbench/bench"
)

func main() {
	csds := flag.String("csds", "http://127.0.0.1:18081", "the simulator's base URL")
	account := flag.String("account", "12345678", "account id")
	idEnv := flag.String("client-id-env", "LPB_ID", "environment variable holding the client id")
	secretEnv := flag.String("client-secret-env", "LPB_SECRET", "environment variable holding the client secret")
	journeys := flag.Int("journeys", 10000, "journeys to run")
	rate := flag.Float64("rate", 1000, "journeys per second (0: as fast as the workers go)")
	workers := flag.Int("workers", 256, "concurrent journeys at most")
	timing := flag.Bool("timing", false, "time every CONVERSATION and first SEND and print their medians")
	flag.Parse()

	start := time.Now()
	c := bench.NewPlain(*account)
	var mu sync.Mutex
	times := map[string][]time.Duration{}
	if *timing {
		c.Timed = func(step string, d time.Duration) {
			mu.Lock()
			times[step] = append(times[step], d)
			mu.Unlock()
		}
	}
	if err := c.Setup(*csds, os.Getenv(*idEnv), os.Getenv(*secretEnv)); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
	jobs := make(chan int, *workers)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range *workers {
		wg.Go(func() {
			for n := range jobs {
				if err := c.Journey(n); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	// Journey n is due n/rate seconds after the first: after a late wake-up the ones due go out
	// at once, so the average rate is the one asked for (a time.Ticker would drop ticks instead).
	paced := time.Now()
	for n := range *journeys {
		if *rate > 0 {
			time.Sleep(time.Until(paced.Add(time.Duration(float64(n) / *rate * float64(time.Second)))))
		}
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)

	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	user, sys := time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
	fmt.Printf("baseline journeys %d failed %d elapsed %.3fs rate %.1f/s cpu %.3fs (user %.3fs sys %.3fs)\n",
		*journeys, failed.Load(), elapsed.Seconds(), float64(*journeys)/elapsed.Seconds(),
		(user + sys).Seconds(), user.Seconds(), sys.Seconds())
	for _, step := range []string{"create", "send"} {
		if ds := times[step]; len(ds) > 0 {
			slices.Sort(ds)
			fmt.Printf("baseline %s n %d p50_ns %d\n", step, len(ds), ds[(len(ds)-1)/2])
		}
	}
	if failed.Load() > 0 {
		os.Exit(1)
	}
}
