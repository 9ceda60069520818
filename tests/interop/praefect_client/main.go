// Command praefect_client calls Praefect (or a Gitaly node) with Gitaly's own
// Go client library (client.Dial, gitalyauth.RPCCredentialsV2, gitalypb), for
// the cluster tests: one call (or a few of one kind) a run, the response
// printed as one protobuf JSON object on stdout, a failed call as its gRPC
// code and message on stderr with exit status 1.
//
// Usage:
//
//	praefect_client -address unix:/path -token SECRET -storage default -repo x.git COMMAND
//
// COMMAND is one of create, exists, remove, checksum, default-branch,
// metadata (PraefectInfoService GetRepositoryMetadata), reads (-n
// FindDefaultBranchName calls), disk (DiskStatistics), readiness
// (ReadinessCheck) and info (ServerInfo).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	gitalyauth "gitlab.com/gitlab-org/gitaly/v16/auth"
	"gitlab.com/gitlab-org/gitaly/v16/client"
	"gitlab.com/gitlab-org/gitaly/v16/proto/go/gitalypb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func main() {
	address := flag.String("address", os.Getenv("GITALY_ADDRESS"), "unix:/path or tcp://host:port")
	token := flag.String("token", os.Getenv("GITALY_TOKEN"), "shared secret for token v2")
	storage := flag.String("storage", "default", "(virtual) storage name")
	relativePath := flag.String("repo", "", "relative path of the repository")
	count := flag.Int("n", 1, "how many calls (reads)")
	timeout := flag.Duration("timeout", 30*time.Second, "deadline of the whole run")
	flag.Parse()
	if flag.NArg() != 1 || *address == "" {
		fmt.Fprintln(os.Stderr, "usage: praefect_client -address ADDR [-token T] [-storage S] [-repo R] COMMAND")
		os.Exit(2)
	}
	var dialOptions []grpc.DialOption
	if *token != "" {
		dialOptions = append(dialOptions, grpc.WithPerRPCCredentials(gitalyauth.RPCCredentialsV2(*token)))
	}
	conn, err := client.Dial(*address, dialOptions)
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	repo := &gitalypb.Repository{StorageName: *storage, RelativePath: *relativePath}
	response, err := call(ctx, conn, flag.Arg(0), repo, *count)
	if err != nil {
		fail(err)
	}
	out, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(response)
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

func call(ctx context.Context, conn *grpc.ClientConn, command string, repo *gitalypb.Repository, count int) (proto.Message, error) {
	repositories := gitalypb.NewRepositoryServiceClient(conn)
	servers := gitalypb.NewServerServiceClient(conn)
	switch command {
	case "create":
		return repositories.CreateRepository(ctx, &gitalypb.CreateRepositoryRequest{Repository: repo})
	case "exists":
		return repositories.RepositoryExists(ctx, &gitalypb.RepositoryExistsRequest{Repository: repo})
	case "remove":
		return repositories.RemoveRepository(ctx, &gitalypb.RemoveRepositoryRequest{Repository: repo})
	case "checksum":
		return repositories.CalculateChecksum(ctx, &gitalypb.CalculateChecksumRequest{Repository: repo})
	case "default-branch", "reads":
		refs := gitalypb.NewRefServiceClient(conn)
		var last proto.Message
		for i := 0; i < count; i++ {
			response, err := refs.FindDefaultBranchName(ctx, &gitalypb.FindDefaultBranchNameRequest{Repository: repo})
			if err != nil {
				return nil, err
			}
			last = response
		}
		return last, nil
	case "metadata":
		return gitalypb.NewPraefectInfoServiceClient(conn).GetRepositoryMetadata(ctx, &gitalypb.GetRepositoryMetadataRequest{
			Query: &gitalypb.GetRepositoryMetadataRequest_Path_{
				Path: &gitalypb.GetRepositoryMetadataRequest_Path{
					VirtualStorage: repo.StorageName,
					RelativePath:   repo.RelativePath,
				},
			},
		})
	case "disk":
		return servers.DiskStatistics(ctx, &gitalypb.DiskStatisticsRequest{})
	case "readiness":
		return servers.ReadinessCheck(ctx, &gitalypb.ReadinessCheckRequest{})
	case "info":
		return servers.ServerInfo(ctx, &gitalypb.ServerInfoRequest{})
	default:
		return nil, fmt.Errorf("unknown command %q", command)
	}
}

func fail(err error) {
	if st, ok := status.FromError(err); ok {
		fmt.Fprintf(os.Stderr, "%s: %s\n", st.Code(), st.Message())
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(1)
}
