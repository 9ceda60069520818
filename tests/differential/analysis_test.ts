/**
 * AnalysisService CheckBlobsGenerated, ours against the reference Gitaly,
 * on the history fixture's files in many languages (minified, protobuf
 * output and ordinary sources) and on bad input.
 *
 * @module
 */
import { differentialTest } from "./harness.ts";

const AS = "gitaly.AnalysisService";
const FILES = [
  "src/main.c",
  "web/index.js",
  "web/style.css",
  "dist/bundle.min.js",
  "gen/api.pb.go",
  "gen2/out.js",
  "vendor/jquery.js",
  "node_modules/pkg/index.js",
  "main.go",
  "data.json",
  "docs/guide.md",
  "README.md",
];

differentialTest("CheckBlobsGenerated", async (h) => {
  const repository = await h.repo("history", { shared: true });
  const blobs = FILES.map((path) => ({ revision: `HEAD:${path}`, path }));
  await h.compare(AS, "CheckBlobsGenerated", [{ repository, blobs }], { join: "none" });
  // Paths decide too: the same content under a generated-looking name.
  await h.compare(AS, "CheckBlobsGenerated", [
    { repository, blobs: [{ revision: "HEAD:main.go", path: "package-lock.json" }] },
    { blobs: [{ revision: "HEAD:main.go", path: "foo.pb.go" }] },
    { blobs: [{ revision: "HEAD:web/index.js", path: "x.min.js" }] },
  ], { join: "none" });
  await h.compare(AS, "CheckBlobsGenerated", [{ repository, blobs: [] }]);
  await h.compare(AS, "CheckBlobsGenerated", [{
    repository,
    blobs: [{ revision: "HEAD:main.go" }],
  }]);
  await h.compare(AS, "CheckBlobsGenerated", [{
    repository,
    blobs: [{ revision: "-x", path: "a" }],
  }]);
  await h.compare(AS, "CheckBlobsGenerated", [{
    repository,
    blobs: [{ revision: "HEAD", path: "a" }],
  }]);
  await h.compare(AS, "CheckBlobsGenerated", [{
    repository,
    blobs: [{ revision: "HEAD:nope", path: "a" }],
  }]);
  await h.compare(AS, "CheckBlobsGenerated", [{ blobs: [{ revision: "HEAD:a", path: "a" }] }]);
});
