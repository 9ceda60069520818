// Command reflection describes a gRPC server through server reflection with
// jhump/protoreflect's grpcreflect client (the client grpcurl uses), once over
// grpc.reflection.v1 and once over v1alpha, and prints what it learned as
// JSON. Every listed service is resolved, which makes the client build and
// validate the descriptors of its file and all the files that one imports.
//
// Usage: reflection <target>   (e.g. unix:///tmp/x.sock or 127.0.0.1:1234)
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/jhump/protoreflect/desc"
	"github.com/jhump/protoreflect/grpcreflect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	refv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	refv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/encoding/protowire"
)

// targetRepositoryOption is the field number of gitaly's (target_repository) extension.
const targetRepositoryOption = 91235

type field struct {
	Name             string `json:"name"`
	Number           int32  `json:"number"`
	Type             string `json:"type"`
	TypeName         string `json:"typeName,omitempty"`
	TargetRepository bool   `json:"targetRepository"`
}

type method struct {
	Input           string `json:"input"`
	Output          string `json:"output"`
	ClientStreaming bool   `json:"clientStreaming"`
	ServerStreaming bool   `json:"serverStreaming"`
}

type report struct {
	Services              []string `json:"services"`
	ResolvedServices      int      `json:"resolvedServices"`
	RepositoryExistsReq   []field  `json:"repositoryExistsRequest"`
	RepositoryExists      method   `json:"repositoryExists"`
	HealthMethods         []string `json:"healthMethods"`
	ObjectTypeValues      []string `json:"objectTypeValues"`
	OpTypeExtensions      []int32  `json:"methodOptionsExtensions"`
	UnknownSymbolNotFound bool     `json:"unknownSymbolNotFound"`
	UnknownFileNotFound   bool     `json:"unknownFileNotFound"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: reflection <target>")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(target string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()

	raw, err := rawListServices(ctx, conn)
	if err != nil {
		return fmt.Errorf("v1 list_services: %w", err)
	}
	// NewClientAuto speaks v1 first and only falls back to v1alpha on Unimplemented.
	v1, err := describe(grpcreflect.NewClientAuto(ctx, conn))
	if err != nil {
		return fmt.Errorf("v1: %w", err)
	}
	v1alpha, err := describe(grpcreflect.NewClientV1Alpha(ctx, refv1alpha.NewServerReflectionClient(conn)))
	if err != nil {
		return fmt.Errorf("v1alpha: %w", err)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"rawV1Services": raw,
		"v1":            v1,
		"v1alpha":       v1alpha,
	})
}

// rawListServices asks over a bare v1 stream, proving the v1 service answers by itself.
func rawListServices(ctx context.Context, conn *grpc.ClientConn) ([]string, error) {
	stream, err := refv1.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	request := &refv1.ServerReflectionRequest{
		MessageRequest: &refv1.ServerReflectionRequest_ListServices{ListServices: "*"},
	}
	if err := stream.Send(request); err != nil {
		return nil, err
	}
	response, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	var names []string
	for _, service := range response.GetListServicesResponse().GetService() {
		names = append(names, service.GetName())
	}
	return names, nil
}

func describe(client *grpcreflect.Client) (*report, error) {
	defer client.Reset()
	var r report
	var err error
	if r.Services, err = client.ListServices(); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	for _, name := range r.Services {
		if _, err := client.ResolveService(name); err != nil {
			return nil, fmt.Errorf("resolve service %s: %w", name, err)
		}
		r.ResolvedServices++
	}
	if r.RepositoryExistsReq, err = describeMessage(client, "gitaly.RepositoryExistsRequest"); err != nil {
		return nil, err
	}
	if r.RepositoryExists, err = describeMethod(client, "gitaly.RepositoryService", "RepositoryExists"); err != nil {
		return nil, err
	}
	health, err := client.ResolveService("grpc.health.v1.Health")
	if err != nil {
		return nil, fmt.Errorf("resolve health: %w", err)
	}
	for _, m := range health.GetMethods() {
		r.HealthMethods = append(r.HealthMethods, m.GetName())
	}
	objectType, err := client.ResolveEnum("gitaly.ObjectType")
	if err != nil {
		return nil, fmt.Errorf("resolve enum: %w", err)
	}
	for _, v := range objectType.GetValues() {
		r.ObjectTypeValues = append(r.ObjectTypeValues, v.GetName())
	}
	if r.OpTypeExtensions, err = client.AllExtensionNumbersForType("google.protobuf.MethodOptions"); err != nil {
		return nil, fmt.Errorf("extension numbers: %w", err)
	}
	_, err = client.ResolveMessage("gitaly.NoSuchMessage")
	r.UnknownSymbolNotFound = grpcreflect.IsElementNotFoundError(err)
	_, err = client.FileByFilename("no/such/file.proto")
	r.UnknownFileNotFound = grpcreflect.IsElementNotFoundError(err)
	return &r, nil
}

func describeMessage(client *grpcreflect.Client, name string) ([]field, error) {
	message, err := client.ResolveMessage(name)
	if err != nil {
		return nil, fmt.Errorf("resolve message %s: %w", name, err)
	}
	var fields []field
	for _, f := range message.GetFields() {
		fields = append(fields, field{
			Name:             f.GetName(),
			Number:           f.GetNumber(),
			Type:             f.GetType().String(),
			TypeName:         typeName(f),
			TargetRepository: hasTrueOption(f, targetRepositoryOption),
		})
	}
	return fields, nil
}

func describeMethod(client *grpcreflect.Client, service, name string) (method, error) {
	sd, err := client.ResolveService(service)
	if err != nil {
		return method{}, fmt.Errorf("resolve service %s: %w", service, err)
	}
	md := sd.FindMethodByName(name)
	if md == nil {
		return method{}, fmt.Errorf("%s has no method %s", service, name)
	}
	return method{
		Input:           md.GetInputType().GetFullyQualifiedName(),
		Output:          md.GetOutputType().GetFullyQualifiedName(),
		ClientStreaming: md.IsClientStreaming(),
		ServerStreaming: md.IsServerStreaming(),
	}, nil
}

func typeName(f *desc.FieldDescriptor) string {
	if m := f.GetMessageType(); m != nil {
		return m.GetFullyQualifiedName()
	}
	if e := f.GetEnumType(); e != nil {
		return e.GetFullyQualifiedName()
	}
	return ""
}

// hasTrueOption reports whether the field's options carry extension `number`
// set to true. The client does not know gitaly's extensions, so they arrive
// as unknown fields of FieldOptions and are read off the wire format.
func hasTrueOption(f *desc.FieldDescriptor, number protowire.Number) bool {
	options := f.GetFieldOptions()
	if options == nil {
		return false
	}
	unknown := options.ProtoReflect().GetUnknown()
	for len(unknown) > 0 {
		num, typ, n := protowire.ConsumeTag(unknown)
		if n < 0 {
			return false
		}
		unknown = unknown[n:]
		if num == number && typ == protowire.VarintType {
			value, m := protowire.ConsumeVarint(unknown)
			return m > 0 && value == 1
		}
		m := protowire.ConsumeFieldValue(num, typ, unknown)
		if m < 0 {
			return false
		}
		unknown = unknown[m:]
	}
	return false
}
