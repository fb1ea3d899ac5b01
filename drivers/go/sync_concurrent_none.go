// Before Go 1.23 the driver runs no concurrent programs: sync.Map has no Clear, and a clear made
// of Range and deletes is not one step when other goroutines write (sync_concurrent.go).

//go:build !go1.23

package main

// syncConcurrent says that this driver runs no concurrent programs (its hello does not say
// `concurrent`).
const syncConcurrent = false

// serveConcurrent refuses a concurrent program after reading it to its end.
func (d *driver) serveConcurrent(line []byte) {
	d.skipToEnd()
	d.answerError("this driver runs no concurrent programs: sync.Map has Clear only from Go 1.23")
}
