// The configuration the cluster's NATS runs, tried on the real nats-server where this machine
// has one (development and CI machines do); without it the test says so and checks nothing.
// (PostgreSQL's databases and roles are the CloudNativePG operator's: manifests.test.ts checks
// them against the services' settings.)
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { natsServerBinary } from "../../nats/src/server";
import { natsPasswordVariable } from "../../common/src/bus/authorization";
import { find, overlays, podSpec, renderOverlay, services } from "./support/k8s";

const run = promisify(execFile);

describe.each(overlays)("overlays/%s: nats.conf", (overlay) => {
  test("is accepted by nats-server", async () => {
    const bin = natsServerBinary();
    if (!bin) return console.warn("nats-server not found: nats.conf not checked");
    const objects = renderOverlay(overlay);
    const nats = find(objects, "StatefulSet", "nats");
    const cmName = podSpec(nats).volumes.find((v: { name: string }) => v.name === "config").configMap.name;
    const conf: string = find(objects, "ConfigMap", cmName).data["nats.conf"];
    // The same file with the pod's paths moved somewhere writable here.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-natsconf-"));
    try {
      const file = path.join(dir, "nats.conf");
      fs.writeFileSync(file, conf.replaceAll("/data", path.join(dir, "data")).replaceAll("/var/run/nats", dir));
      // the passwords come from the pod's environment (the nats-<service> Secrets)
      const passwords = Object.fromEntries(
        ["ticketforge-admin", ...services].map((user) => [natsPasswordVariable(user), `placeholder${user.replace(/[^a-z]/g, "")}`]),
      );
      const { stdout, stderr } = await run(bin, ["-t", "-c", file], { env: { ...process.env, POD_NAME: "nats-0", ...passwords } });
      expect(`${stdout}${stderr}`).toMatch(/valid/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(overlays)("overlays/%s: NATS accounts", (overlay) => {
  const objects = renderOverlay(overlay);
  const nats = find(objects, "StatefulSet", "nats");
  const container = podSpec(nats).containers[0];
  const conf: string = find(objects, "ConfigMap", podSpec(nats).volumes.find((v: { name: string }) => v.name === "config").configMap.name)
    .data["nats.conf"];

  test("When nats.conf reads a password from the environment, then the NATS pod gets it from a Secret", () => {
    const read = [...conf.matchAll(/\$(NATS_PASSWORD_\w+)/g)].map(([, v]) => v).sort();
    expect(read).toEqual([natsPasswordVariable("ticketforge-admin"), ...services.map((s) => natsPasswordVariable(s))].sort());
    for (const variable of read) {
      const env = container.env.find((e: { name: string }) => e.name === variable);
      expect([variable, env?.valueFrom?.secretKeyRef?.key]).toEqual([variable, "password"]);
    }
    // each service's password comes from the very Secret that service reads
    for (const s of services) {
      const fromServer = container.env.find((e: { name: string }) => e.name === natsPasswordVariable(s)).valueFrom.secretKeyRef.name;
      const service = podSpec(find(objects, "Deployment", s)).containers[0].env.find((e: { name: string }) => e.name === "NATS_PASSWORD");
      expect([s, fromServer]).toEqual([s, service.valueFrom.secretKeyRef.name]);
    }
  });

  test("When the services start, then a Job per service has provisioned its streams and consumers as the administrator", () => {
    for (const s of services) {
      const job = find(objects, "Job", `nats-provision-${s}`);
      const c = podSpec(job).containers[0];
      expect(c.image).toBe(podSpec(find(objects, "Deployment", s)).containers[0].image);
      // the service's main with --provision; that the program is in the overlay's image: images.test.ts
      expect(c.command[c.command.length - 1]).toBe("--provision");
      expect(c.command.join(" ")).toMatch(/\bmain\.(js|ts) --provision$/);
      expect(c.env.find((e: { name: string }) => e.name === "NATS_USER").value).toBe("ticketforge-admin");
      expect(c.env.find((e: { name: string }) => e.name === "NATS_PASSWORD").valueFrom.secretKeyRef.name).toBe("nats-admin");
    }
  });
});
