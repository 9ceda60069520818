// Command client drives a Gitaly-compatible server with Gitaly's own Go client
// library (client.Dial, gitalyauth.RPCCredentialsV2, gitalypb) so that tests
// can prove an unmodified Go caller works against it.
//
// Usage:
//
//	client -address unix:/path/gitaly.socket -token SECRET lifecycle
//	client -address tcp://127.0.0.1:9999 -token SECRET errors
//
// Every flag has an environment fallback (GITALY_ADDRESS, GITALY_TOKEN,
// GITALY_STORAGE, GITALY_STORAGE_PATH, SCENARIO). Output is one JSON object
// a line, one line a step; the exit status is 1 when any step went
// differently from what Gitaly 16.7 does, 2 on a usage error.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	gitalyauth "gitlab.com/gitlab-org/gitaly/v16/auth"
	"gitlab.com/gitlab-org/gitaly/v16/client"
	"google.golang.org/grpc"
)

// callTimeout bounds every single RPC so a hung server fails the step
// instead of the whole test run.
const callTimeout = 15 * time.Second

// options is what the command line selects.
type options struct {
	address     string
	token       string
	storage     string
	storagePath string
	scenario    string
}

// session is what a scenario works with.
type session struct {
	opts    options
	conn    *grpc.ClientConn
	rep     *reporter
	cancels []context.CancelFunc
}

// call returns a fresh context for one RPC; close releases them all.
func (s *session) call() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	s.cancels = append(s.cancels, cancel)
	return ctx
}

// close releases the call contexts and the connection.
func (s *session) close() {
	for _, cancel := range s.cancels {
		cancel()
	}
	s.conn.Close()
}

// scenarios maps the names accepted on the command line to their steps.
var scenarios = map[string]func(*session){
	"lifecycle": runLifecycle,
	"errors":    runErrors,
	"auth":      runAuth,
}

func main() {
	opts, err := parseOptions(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	conn, err := dial(opts.address, opts.token)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := &session{opts: opts, conn: conn, rep: newReporter(os.Stdout, opts.scenario)}
	scenarios[opts.scenario](s)
	s.close()
	if s.rep.failures > 0 {
		fmt.Fprintf(os.Stderr, "%s: %d unexpected result(s)\n", opts.scenario, s.rep.failures)
		os.Exit(1)
	}
}

// dial connects the way GitLab's Go services do: Gitaly's client.Dial plus
// token v2 credentials. An empty token means no credentials at all.
func dial(address, token string) (*grpc.ClientConn, error) {
	var dialOptions []grpc.DialOption
	if token != "" {
		dialOptions = append(dialOptions, grpc.WithPerRPCCredentials(gitalyauth.RPCCredentialsV2(token)))
	}
	return client.Dial(address, dialOptions)
}

func parseOptions(args []string) (options, error) {
	flags := flag.NewFlagSet("client", flag.ContinueOnError)
	var opts options
	flags.StringVar(&opts.address, "address", os.Getenv("GITALY_ADDRESS"), "unix:/path or tcp://host:port")
	flags.StringVar(&opts.token, "token", os.Getenv("GITALY_TOKEN"), "shared secret for token v2")
	flags.StringVar(&opts.storage, "storage", envOr("GITALY_STORAGE", "default"), "storage name")
	flags.StringVar(&opts.storagePath, "storage-path", os.Getenv("GITALY_STORAGE_PATH"),
		"storage directory, for the optional on-disk checks")
	flags.StringVar(&opts.scenario, "scenario", os.Getenv("SCENARIO"), strings.Join(scenarioNames(), " | "))
	if err := flags.Parse(args); err != nil {
		return opts, err
	}
	if flags.NArg() > 0 {
		opts.scenario = flags.Arg(0)
	}
	if opts.address == "" {
		return opts, fmt.Errorf("missing -address")
	}
	if _, ok := scenarios[opts.scenario]; !ok {
		return opts, fmt.Errorf("unknown scenario %q; want one of %s", opts.scenario, strings.Join(scenarioNames(), ", "))
	}
	return opts, nil
}

func scenarioNames() []string {
	names := make([]string, 0, len(scenarios))
	for name := range scenarios {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}
