import {
  featureFlagMetadata,
  featureFlagMetadataKey,
  formatFeatureFlagList,
  parseFeatureFlagList,
} from "../../src/client/feature_flags.ts";
import { assertEquals } from "../helpers/assert.ts";

Deno.test("feature flags: metadata keys use dashes", () => {
  assertEquals(featureFlagMetadataKey("upload_pack_filter"), "gitaly-feature-upload-pack-filter");
  assertEquals(featureFlagMetadata({ a_b: true, c: false }), {
    "gitaly-feature-a-b": "true",
    "gitaly-feature-c": "false",
  });
});

Deno.test("feature flags: GITALY_FEATUREFLAGS parsing skips malformed entries like gitaly-ssh", () => {
  assertEquals(parseFeatureFlagList("a:true,b:false,c:1,d:F,noColon,e:maybe,"), {
    a: true,
    b: false,
    c: true,
    d: false,
  });
  assertEquals(parseFeatureFlagList(""), {});
  assertEquals(formatFeatureFlagList({ a: true, b: false }), "a:true,b:false");
});
