/**
 * A throwaway CA and a server certificate for 127.0.0.1/localhost, made with
 * `openssl` (tests that need TLS skip when it is missing).
 *
 * @module
 */
import { join } from "node:path";

/** Paths of the generated PEM files. */
export interface TestCertificates {
  caPath: string;
  certificatePath: string;
  keyPath: string;
}

/** Whether `openssl` can be run. */
export async function haveOpenssl(): Promise<boolean> {
  try {
    return (await new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

/** Creates a CA and a CA-signed server certificate in `dir`. */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const p = (name: string) => join(dir, name);
  const ext = p("san.ext");
  await Deno.writeTextFile(
    ext,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
  );
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=test-ca",
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.pem"),
  ]);
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    p("server.key"),
    "-out",
    p("server.csr"),
  ]);
  await openssl([
    "x509",
    "-req",
    "-in",
    p("server.csr"),
    "-CA",
    p("ca.pem"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    ext,
    "-out",
    p("server.pem"),
  ]);
  return { caPath: p("ca.pem"), certificatePath: p("server.pem"), keyPath: p("server.key") };
}

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}
