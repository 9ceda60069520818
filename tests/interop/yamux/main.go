// Command yamux-peer runs one hashicorp/yamux session over a Unix socket so
// the Deno tests can check our Yamux implementation against the real one.
//
// With -mode server it listens on -socket, prints "ready" and serves the
// first connection as the Yamux server; with -mode client it dials -socket
// and acts as the Yamux client. Either way it then serves every stream the
// peer opens. The first line of a stream is a command:
//
//	echo               copy the stream back until EOF, then close
//	sink               read until EOF, check the pattern, answer "<bytes> <ok|bad>"
//	source <n>         write n pattern bytes, then close
//	expect-reset       answer "ready", read until an error, queue what ended the read
//	result             answer the oldest queued result (waits up to 10 s)
//	ping               ping the peer, answer "ok" or the error
//	open <kind> <count> <size>
//	                   open count streams to the peer at once, run kind
//	                   (echo, source, sink, reset) on each, answer "ok" or the
//	                   first error
//	stats              answer "<streams>" (open streams in this session)
//
// The pattern byte at offset i is i % 251.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

const patternPeriod = 251

var results = make(chan string, 1024)

func main() {
	mode := flag.String("mode", "server", "yamux role: server (listen) or client (dial)")
	socket := flag.String("socket", "", "unix socket path")
	maxWindow := flag.Uint("max-window", 256*1024, "MaxStreamWindowSize")
	backlog := flag.Int("backlog", 256, "AcceptBacklog")
	closeTimeout := flag.Duration("close-timeout", 5*time.Minute, "StreamCloseTimeout")
	flag.Parse()

	config := yamux.DefaultConfig()
	config.EnableKeepAlive = false
	config.MaxStreamWindowSize = uint32(*maxWindow)
	config.AcceptBacklog = *backlog
	config.StreamCloseTimeout = *closeTimeout
	config.LogOutput = os.Stderr

	conn, err := connect(*mode, *socket)
	if err != nil {
		log.Fatalf("connect: %v", err)
	}
	var session *yamux.Session
	if *mode == "server" {
		session, err = yamux.Server(conn, config)
	} else {
		session, err = yamux.Client(conn, config)
	}
	if err != nil {
		log.Fatalf("session: %v", err)
	}
	for {
		stream, err := session.AcceptStream()
		if err != nil {
			fmt.Fprintf(os.Stderr, "session ended: %v\n", err)
			return
		}
		go serve(session, stream)
	}
}

func connect(mode, socket string) (net.Conn, error) {
	if mode == "client" {
		return net.Dial("unix", socket)
	}
	listener, err := net.Listen("unix", socket)
	if err != nil {
		return nil, err
	}
	defer listener.Close()
	fmt.Println("ready")
	return listener.Accept()
}

func serve(session *yamux.Session, stream *yamux.Stream) {
	defer stream.Close()
	reader := bufio.NewReader(stream)
	line, err := reader.ReadString('\n')
	if err != nil {
		fmt.Fprintf(os.Stderr, "stream %d: no command: %v\n", stream.StreamID(), err)
		return
	}
	args := strings.Fields(line)
	if len(args) == 0 {
		return
	}
	switch args[0] {
	case "echo":
		io.Copy(stream, reader)
	case "sink":
		count, ok := checkPattern(reader)
		fmt.Fprintf(stream, "%d %s\n", count, okWord(ok))
	case "source":
		size, _ := strconv.ParseInt(argAt(args, 1), 10, 64)
		writePattern(stream, size)
	case "expect-reset":
		fmt.Fprintln(stream, "ready")
		_, err := io.Copy(io.Discard, reader)
		results <- describeEnd(err)
	case "result":
		select {
		case result := <-results:
			fmt.Fprintln(stream, result)
		case <-time.After(10 * time.Second):
			fmt.Fprintln(stream, "no result")
		}
	case "ping":
		if _, err := session.Ping(); err != nil {
			fmt.Fprintf(stream, "error: %v\n", err)
		} else {
			fmt.Fprintln(stream, "ok")
		}
	case "open":
		count, _ := strconv.Atoi(argAt(args, 2))
		size, _ := strconv.ParseInt(argAt(args, 3), 10, 64)
		if err := openMany(session, argAt(args, 1), count, size); err != nil {
			fmt.Fprintf(stream, "error: %v\n", err)
		} else {
			fmt.Fprintln(stream, "ok")
		}
	case "stats":
		fmt.Fprintln(stream, session.NumStreams())
	default:
		fmt.Fprintf(stream, "unknown command %q\n", args[0])
	}
}

// openMany opens count streams to the peer at once and runs kind on each.
func openMany(session *yamux.Session, kind string, count int, size int64) error {
	var wg sync.WaitGroup
	errs := make(chan error, count)
	for i := 0; i < count; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := runOpened(session, kind, size); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func runOpened(session *yamux.Session, kind string, size int64) error {
	stream, err := session.OpenStream()
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer stream.Close()
	switch kind {
	case "echo":
		fmt.Fprintf(stream, "echo\n")
		writeErr := make(chan error, 1)
		go func() {
			err := writePattern(stream, size)
			stream.Close()
			writeErr <- err
		}()
		count, ok := checkPattern(stream)
		if err := <-writeErr; err != nil {
			return fmt.Errorf("echo write: %w", err)
		}
		return expectPattern(count, ok, size)
	case "source":
		fmt.Fprintf(stream, "source %d\n", size)
		stream.Close()
		count, ok := checkPattern(stream)
		return expectPattern(count, ok, size)
	case "sink":
		fmt.Fprintf(stream, "sink\n")
		if err := writePattern(stream, size); err != nil {
			return fmt.Errorf("sink write: %w", err)
		}
		stream.Close()
		reply, err := io.ReadAll(stream)
		if err != nil {
			return fmt.Errorf("sink reply: %w", err)
		}
		if want := fmt.Sprintf("%d ok\n", size); string(reply) != want {
			return fmt.Errorf("sink reply %q, want %q", reply, want)
		}
		return nil
	case "reset":
		fmt.Fprintf(stream, "reset\n")
		_, err := io.Copy(io.Discard, stream)
		if !errors.Is(err, yamux.ErrConnectionReset) {
			return fmt.Errorf("read ended with %v, want connection reset", err)
		}
		return nil
	}
	return fmt.Errorf("unknown kind %q", kind)
}

func writePattern(w io.Writer, size int64) error {
	chunk := make([]byte, patternPeriod*256)
	for i := range chunk {
		chunk[i] = byte(i % patternPeriod)
	}
	for size > 0 {
		n := int64(len(chunk))
		if size < n {
			n = size
		}
		if _, err := w.Write(chunk[:n]); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

// checkPattern reads r to EOF and reports the byte count and whether every byte matched.
func checkPattern(r io.Reader) (int64, bool) {
	buf := make([]byte, 256*1024)
	var offset int64
	expected := byte(0)
	ok := true
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != expected {
				ok = false
			}
			if expected++; expected == patternPeriod {
				expected = 0
			}
		}
		offset += int64(n)
		if err != nil {
			return offset, ok && err == io.EOF
		}
	}
}

func expectPattern(count int64, ok bool, size int64) error {
	if count != size || !ok {
		return fmt.Errorf("got %d bytes (pattern ok: %v), want %d", count, ok, size)
	}
	return nil
}

func describeEnd(err error) string {
	switch {
	case err == nil:
		return "eof"
	case errors.Is(err, yamux.ErrConnectionReset):
		return "reset"
	default:
		return "error: " + err.Error()
	}
}

func okWord(ok bool) string {
	if ok {
		return "ok"
	}
	return "bad"
}

func argAt(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}
