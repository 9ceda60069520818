// Command descriptors prints every file descriptor that Gitaly's published
// gitalypb package registers (plus gRPC's health and reflection protos, which
// our server also serves), so tests can hold our proto files to them.
//
// Output: one JSON object mapping each registered file path to the base64 of
// its FileDescriptorProto (deterministic wire encoding). Comparing encoded
// descriptors lets the caller decode both sides with the same schema.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	_ "gitlab.com/gitlab-org/gitaly/v16/proto/go/gitalypb"
	_ "google.golang.org/grpc/health/grpc_health_v1"
	_ "google.golang.org/grpc/reflection/grpc_reflection_v1"
	_ "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

func main() {
	files, err := encodeRegisteredFiles()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// encoding/json sorts map keys, which keeps the output stable.
	if err := json.NewEncoder(os.Stdout).Encode(files); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// encodeRegisteredFiles walks the global registry that importing gitalypb
// filled and encodes each file as a FileDescriptorProto.
func encodeRegisteredFiles() (map[string]string, error) {
	files := map[string]string{}
	var failure error
	deterministic := proto.MarshalOptions{Deterministic: true}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		encoded, err := deterministic.Marshal(protodesc.ToFileDescriptorProto(fd))
		if err != nil {
			failure = fmt.Errorf("encode %s: %w", fd.Path(), err)
			return false
		}
		files[fd.Path()] = base64.StdEncoding.EncodeToString(encoded)
		return true
	})
	return files, failure
}
