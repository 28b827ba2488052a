// Validates a PrometheusRule (JSON on stdin) with @kubernetes-models/prometheus-operator, which
// is ESM only (Jest compiles the tests to CommonJS, hence a plain Node process). Prints a JSON
// array of problems, empty when valid.
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

const input = JSON.parse(
  await new Promise((resolve) => {
    let text = "";
    process.stdin.on("data", (c) => (text += c));
    process.stdin.on("end", () => resolve(text));
  }),
);
try {
  new PrometheusRule(input).validate();
  process.stdout.write("[]");
} catch (err) {
  const details = err.errors?.map((e) => `${e.instancePath || "/"} ${e.message}`) ?? [err.message];
  process.stdout.write(JSON.stringify(details));
}
