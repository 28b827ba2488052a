import path from "node:path";
import { ESLint } from "eslint";

const root = path.join(__dirname, "..", "..");
const eslint = new ESLint({ cwd: root });

async function layeringErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("publishing the lint enforces", () => {
  const publishErrors = async (file: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
    return result.messages.filter((m) => m.ruleId === "no-restricted-syntax").map((m) => m.message);
  };

  test("When a service publishes through the raw NATS client, then the lint fails and names uow.publish", async () => {
    const raw = 'export const send = (ctx: any) => ctx.bus.js.publish("order.created", new Uint8Array());\n';
    expect(await publishErrors("orders/src/routes/x.ts", raw)).toEqual([expect.stringMatching(/uow\.publish inside ctx\.work/)]);
    expect(await publishErrors("passes/src/workers/x.ts", raw.replace(".js.", ".nc."))).toHaveLength(1);
    // the unit of work's own publish, and tests playing another service, are not refused
    expect(await publishErrors("orders/src/routes/x.ts", 'export const send = (uow: any) => uow.publish("order.created", {});\n')).toEqual(
      [],
    );
    expect(await publishErrors("orders/test/x.test.ts", raw)).toEqual([]);
  });
});

describe("layering the lint enforces", () => {
  test("When a service reaches into another workspace's src/, then the lint fails and says to use the package", async () => {
    const errors = await layeringErrors(
      "orders/src/routes/x.ts",
      'import { outbox } from "../../../common/src/outbox";\nexport const y = outbox;\n',
    );
    expect(errors).toEqual([expect.stringMatching(/through its package/)]);
    expect(
      await layeringErrors("orders/src/routes/x.ts", 'import { listener } from "@ticketforge/common";\nexport const y = listener;\n'),
    ).toEqual([]);
  });

  test("When the benchmark or the launcher imports test support or a service's internals, then the lint fails", async () => {
    expect(
      await layeringErrors(
        "scripts/bench/x.ts",
        'import { startTestService } from "@ticketforge/common/testing";\nexport const y = startTestService;\n',
      ),
    ).toHaveLength(1);
    expect(
      await layeringErrors("scripts/bench/x.ts", 'import { startStack } from "../../e2e/stack";\nexport const y = startStack;\n'),
    ).toHaveLength(1);
    expect(
      await layeringErrors("scripts/launcher/x.ts", 'import { tickets } from "../../tickets/src/service";\nexport const y = tickets;\n'),
    ).toHaveLength(1);
    expect(
      await layeringErrors("scripts/bench/x.ts", 'import { startStack } from "../launcher/stack";\nexport const y = startStack;\n'),
    ).toEqual([]);
  });

  test("When the launcher imports the whole common package, then the lint fails and names the entry point made for it", async () => {
    expect(
      await layeringErrors("scripts/launcher/x.ts", 'import { compactHeap } from "@ticketforge/common";\nexport const y = compactHeap;\n'),
    ).toEqual([expect.stringMatching(/@ticketforge\/common\/stack/)]);
    expect(
      await layeringErrors(
        "scripts/launcher/x.ts",
        'import { compactHeap } from "@ticketforge/common/stack";\nexport const y = compactHeap;\n',
      ),
    ).toEqual([]);
    // the benchmark is not a long-lived process: it may use the whole package
    expect(await layeringErrors("scripts/bench/x.ts", 'import { sql } from "@ticketforge/common";\nexport const y = sql;\n')).toEqual([]);
  });

  test("When end-to-end tests import a service's internals, then the lint fails; the launcher's stack API is theirs to use", async () => {
    expect(
      await layeringErrors("e2e/x.test.ts", 'import { orders } from "../orders/src/service";\nexport const y = orders;\n'),
    ).toHaveLength(1);
    expect(
      await layeringErrors("e2e/x.test.ts", 'import { startStack } from "../scripts/launcher/stack";\nexport const y = startStack;\n'),
    ).toEqual([]);
  });
});
