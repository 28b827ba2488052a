// CPU profile of one service of a running stack, without restarting it (node's --cpu-prof is
// refused in NODE_OPTIONS). `npm run bench -- --profile <service>` starts the stack with
//   NODE_OPTIONS="--require scripts/bench/profile-preload.cjs" TICKETFORGE_PROFILE=<service>
// Every node process loads this file; only the named service's process arms it. The first
// SIGUSR2 starts node:inspector's sampling profiler, the second writes the .cpuprofile to the path
// found in <tmpdir>/tf-profile-<pid> (written by whoever sends the signal) or to the current
// directory. Open the file in Chrome DevTools (Performance tab) or https://www.speedscope.app.
"use strict";
const service = process.env.TICKETFORGE_PROFILE;
const entry = process.argv[1] ?? "";
if (service && new RegExp(`[/\\\\]${service}[/\\\\](src|dist)[/\\\\]main`).test(entry)) {
  const fs = require("node:fs");
  const os = require("node:os");
  const path = require("node:path");
  const inspector = require("node:inspector");
  const session = new inspector.Session();
  session.connect();
  let running = false;
  process.on("SIGUSR2", () => {
    if (!running) {
      running = true;
      session.post("Profiler.enable", () =>
        session.post("Profiler.setSamplingInterval", { interval: 500 }, () => session.post("Profiler.start")),
      );
      return;
    }
    running = false;
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      const named = path.join(os.tmpdir(), `tf-profile-${process.pid}`);
      const file = fs.existsSync(named) ? fs.readFileSync(named, "utf8").trim() : path.resolve(`${service}-${process.pid}.cpuprofile`);
      fs.writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}
