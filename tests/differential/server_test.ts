/**
 * ServerService ClockSynced, ours against the reference Gitaly, both asking
 * the same NTP responder on loopback.
 *
 * @module
 */
import { startNtpResponder } from "../helpers/ntp.ts";
import { differentialTest } from "./harness.ts";

const SS = "gitaly.ServerService";

differentialTest("ClockSynced", async (h) => {
  const inSync = await startNtpResponder({ offsetMs: 5 });
  const behind = await startNtpResponder({ offsetMs: 120_000 });
  const kiss = await startNtpResponder({ stratum: 0 });
  const alarm = await startNtpResponder({ leap: 3 });
  try {
    const minute = { seconds: 60, nanos: 0 };
    await h.compare(SS, "ClockSynced", { ntp_host: inSync.host, drift_threshold: minute });
    await h.compare(SS, "ClockSynced", { ntp_host: behind.host, drift_threshold: minute });
    await h.compare(SS, "ClockSynced", {
      ntp_host: behind.host,
      drift_threshold: { seconds: 600, nanos: 0 },
    });
    // Go's protobuf errors put a no-break space after "proto:" to discourage matching on them.
    await h.compare(SS, "ClockSynced", { ntp_host: inSync.host }, {
      message: (m) => m.replaceAll("\u00a0", " "),
    });
    await h.compare(SS, "ClockSynced", {
      ntp_host: inSync.host,
      drift_threshold: { seconds: 1, nanos: -5 },
    }, { message: "ignore" });
    await h.compare(SS, "ClockSynced", { ntp_host: kiss.host, drift_threshold: minute }, {
      message: "ignore",
    });
    await h.compare(SS, "ClockSynced", { ntp_host: alarm.host, drift_threshold: minute }, {
      message: "ignore",
    });
  } finally {
    await Promise.all([inSync.close(), behind.close(), kiss.close(), alarm.close()]);
  }
});
