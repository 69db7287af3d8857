package cli

import (
	"fmt"
	"sync"
	"time"
)

// spinner shows progress on a terminal's stderr. It does nothing when
// stderr is not a terminal or NO_COLOR is set, so piped output and logs
// stay clean.
type spinner struct {
	mu   sync.Mutex
	msg  string
	done chan struct{}
	wg   sync.WaitGroup
	env  *Env
}

func spinnerEnabled(env *Env) bool {
	return env.StderrIsTerminal && stylesAllowed(env)
}

func startSpinner(env *Env, format string, a ...any) *spinner {
	s := &spinner{msg: fmt.Sprintf(format, a...), done: make(chan struct{}), env: env}
	if !spinnerEnabled(env) {
		return s
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			s.mu.Lock()
			fmt.Fprintf(env.Stderr, "\r\033[K%c %s", frames[i%len(frames)], s.msg)
			s.mu.Unlock()
			select {
			case <-s.done:
				fmt.Fprint(env.Stderr, "\r\033[K")
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *spinner) set(format string, a ...any) {
	s.mu.Lock()
	s.msg = fmt.Sprintf(format, a...)
	s.mu.Unlock()
}

func (s *spinner) stop() {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	s.wg.Wait()
}
