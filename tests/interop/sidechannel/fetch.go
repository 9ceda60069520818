package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	gitalyauth "gitlab.com/gitlab-org/gitaly/v16/auth"
	"gitlab.com/gitlab-org/gitaly/v16/client"
	"gitlab.com/gitlab-org/gitaly/v16/proto/go/gitalypb"
	"google.golang.org/grpc"
)

// countingDiscard counts what is written to it and keeps nothing.
type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// runFetch is the benchmark client: it reads the whole request from stdin,
// then dials GITALY_ADDRESS and runs one fetch-path RPC with Gitaly's own
// client functions, discarding (and counting) the output. It prints
// {"bytes":N,"seconds":S} where S covers the dial and the call.
func runFetch(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: sidechannel fetch ssh-upload-pack|ssh-upload-pack-sidechannel|post-upload-pack-sidechannel|ssh-upload-archive")
	}
	request, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	ctx := context.Background()
	out := &countingDiscard{}
	started := time.Now()
	var code int32
	switch args[0] {
	case "ssh-upload-pack":
		conn, err := plainDial()
		if err != nil {
			return err
		}
		defer conn.Close()
		code, err = client.UploadPack(ctx, conn, bytes.NewReader(request), out, io.Discard,
			&gitalypb.SSHUploadPackRequest{Repository: repository()})
		if err != nil {
			return err
		}
	case "ssh-upload-archive":
		conn, err := plainDial()
		if err != nil {
			return err
		}
		defer conn.Close()
		code, err = client.UploadArchive(ctx, conn, bytes.NewReader(request), out, io.Discard,
			&gitalypb.SSHUploadArchiveRequest{Repository: repository()})
		if err != nil {
			return err
		}
	case "ssh-upload-pack-sidechannel":
		conn, registry, err := dial(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		result, err := client.UploadPackWithSidechannelWithResult(ctx, conn, registry,
			bytes.NewReader(request), out, io.Discard,
			&gitalypb.SSHUploadPackWithSidechannelRequest{Repository: repository()})
		if err != nil {
			return err
		}
		code = result.ExitCode
	case "post-upload-pack-sidechannel":
		conn, registry, err := dial(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if err := postUploadPack(ctx, conn, registry, request, out); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown RPC %q", args[0])
	}
	seconds := time.Since(started).Seconds()
	if code != 0 {
		return fmt.Errorf("git exited with %d", code)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"bytes": out.n, "seconds": seconds})
}

// plainDial connects without multiplexing, as gitlab-shell does for SSH RPCs.
func plainDial() (*grpc.ClientConn, error) {
	var opts []grpc.DialOption
	if token := os.Getenv("GITALY_TOKEN"); token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(gitalyauth.RPCCredentialsV2(token)))
	}
	return client.Dial(os.Getenv("GITALY_ADDRESS"), opts)
}

// postUploadPack does what Workhorse does for POST /git-upload-pack.
func postUploadPack(ctx context.Context, conn *grpc.ClientConn, registry *client.SidechannelRegistry, request []byte, out io.Writer) error {
	ctx, waiter := registry.Register(ctx, func(sc client.SidechannelConn) error {
		if _, err := sc.Write(request); err != nil {
			return err
		}
		if err := sc.CloseWrite(); err != nil {
			return err
		}
		_, err := io.Copy(out, sc)
		return err
	})
	defer waiter.Close()
	if _, err := gitalypb.NewSmartHTTPServiceClient(conn).PostUploadPackWithSidechannel(ctx,
		&gitalypb.PostUploadPackWithSidechannelRequest{Repository: repository()}); err != nil {
		return err
	}
	return waiter.Close()
}
