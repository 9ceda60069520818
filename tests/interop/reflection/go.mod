module deno-gitaly/tests/interop/reflection

go 1.22

require (
	github.com/jhump/protoreflect v1.15.6
	google.golang.org/grpc v1.57.1
	google.golang.org/protobuf v1.31.1-0.20231027082548-f4a6c1f6e5c1
)

require (
	github.com/bufbuild/protocompile v0.8.0 // indirect
	github.com/golang/protobuf v1.5.3 // indirect
	golang.org/x/net v0.17.0 // indirect
	golang.org/x/sys v0.13.0 // indirect
	golang.org/x/text v0.13.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20230525234030-28d5490b6b19 // indirect
)
