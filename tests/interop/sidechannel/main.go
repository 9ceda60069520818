// Command sidechannel holds our sidechannel implementation to Gitaly's own
// Go client package, in three roles:
//
//	sidechannel ssh HOST CMD      git's GIT_SSH_COMMAND: SSHUploadPackWithSidechannel
//	                              through client.UploadPackWithSidechannelWithResult
//	sidechannel http              a tiny Smart HTTP front end (like Workhorse): info/refs
//	                              via InfoRefsUploadPack, POSTs via PostUploadPackWithSidechannel
//	sidechannel fetch RPC         the benchmark client: one fetch-path RPC with the request
//	                              from stdin, output counted and discarded (see fetch.go)
//	sidechannel server SOCKET     a Go server built with client.SidechannelServer that
//	                              answers PostUploadPackWithSidechannel by echoing the
//	                              request over client.OpenServerSidechannel
//
// The client roles dial GITALY_ADDRESS with client.DialSidechannel and
// gitalyauth.RPCCredentialsV2(GITALY_TOKEN); the repository is
// GITALY_STORAGE / GITALY_REPO. Negotiation statistics the server returns are
// appended to STATS_FILE as JSON lines when it is set.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "ssh":
		var code int32
		code, err = runSSH(os.Args[2:])
		if err == nil {
			os.Exit(int(code))
		}
	case "http":
		err = runHTTP()
	case "fetch":
		err = runFetch(os.Args[2:])
	case "server":
		if len(os.Args) != 3 {
			usage()
		}
		err = runServer(os.Args[2])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sidechannel %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: sidechannel ssh HOST CMD | http | fetch RPC | server SOCKET")
	os.Exit(2)
}
