import {
  didTagsChange,
  fetchFlags,
  refspecs,
  remoteConfig,
} from "../../../src/service/repository/fetch_remote.ts";
import { basicAuthorization, resolveConfig } from "../../../src/service/repository/remote_url.ts";
import type { FetchRemoteRequest } from "../../../src/proto/types.ts";
import { assertEquals, assertThrows } from "../../helpers/assert.ts";

function request(overrides: Partial<FetchRemoteRequest> = {}): FetchRemoteRequest {
  return {
    force: false,
    no_tags: false,
    timeout: 0,
    ssh_key: "",
    known_hosts: "",
    no_prune: false,
    check_tags_changed: false,
    remote_params: {
      url: "https://example.com/a.git",
      http_authorization_header: "",
      mirror_refmaps: [],
      resolved_address: "",
    },
    ...overrides,
  } as FetchRemoteRequest;
}

Deno.test("FetchRemote: refmap shorthands and flags", () => {
  assertEquals(refspecs([]), ["refs/*:refs/*"]);
  assertEquals(refspecs(["all_refs", "heads", "tags", "+refs/x/*:refs/y/*"]), [
    "refs/*:refs/*",
    "refs/heads/*:refs/heads/*",
    "refs/tags/*:refs/tags/*",
    "+refs/x/*:refs/y/*",
  ]);
  assertEquals(fetchFlags(request()), ["--no-write-fetch-head", "--quiet", "--prune", "--tags"]);
  assertEquals(fetchFlags(request({ force: true, no_tags: true, no_prune: true })), [
    "--no-write-fetch-head",
    "--quiet",
    "--force",
    "--no-tags",
    "--no-show-forced-updates",
  ]);
  assertEquals(fetchFlags(request({ check_tags_changed: true })), [
    "--no-write-fetch-head",
    "--prune",
    "--tags",
  ]);
});

Deno.test("FetchRemote: remote configuration with auth header and pinned address", () => {
  const config = remoteConfig(request({
    remote_params: {
      url: "https://example.com/a.git",
      http_authorization_header: "Bearer x",
      mirror_refmaps: ["heads"],
      resolved_address: "192.0.2.7",
    },
  }));
  assertEquals(config, [
    { key: "remote.inmemory.fetch", value: "refs/heads/*:refs/heads/*" },
    { key: "http.curloptResolve", value: "example.com:443:192.0.2.7" },
    { key: "remote.inmemory.url", value: "https://example.com/a.git" },
    { key: "http.https://example.com/a.git.extraHeader", value: "Authorization: Bearer x" },
  ]);
});

Deno.test("FetchRemote: tag changes in verbose fetch output", () => {
  assertEquals(didTagsChange(" * [new tag]         v1.0       -> v1.0\n"), true);
  assertEquals(didTagsChange(" t [tag update]      v1.0       -> v1.0\n"), true);
  assertEquals(
    didTagsChange(" * [new branch]      main       -> main\n = [up to date] x -> x\n"),
    false,
  );
  assertEquals(didTagsChange("From /some/where\n"), false);
});

Deno.test("remote URLs: pinning and Basic credentials", () => {
  assertEquals(resolveConfig("http://h:8080/a.git", "10.0.0.1").config, [
    { key: "http.curloptResolve", value: "h:8080:10.0.0.1" },
  ]);
  assertEquals(resolveConfig("ssh://git@h/a.git", "10.0.0.1").url, "ssh://git@10.0.0.1/a.git");
  assertEquals(resolveConfig("git@h:group/a.git", "10.0.0.1").url, "git@10.0.0.1:group/a.git");
  assertThrows(() => resolveConfig("http://h/a.git", "not-an-ip"), /invalid IPv4\/IPv6/);
  assertThrows(() => resolveConfig("", "10.0.0.1"), /URL is empty/);
  assertEquals(basicAuthorization("alice", "s3cret"), `Basic ${btoa("alice:s3cret")}`);
});
