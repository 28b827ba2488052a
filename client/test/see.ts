// Waiting assertions for playwright-core (its auto-waiting `expect` ships only with @playwright/test).
import type { Locator } from "playwright-core";

async function until(what: string, check: () => Promise<boolean>, timeout: number, describe: () => Promise<string>) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeout} ms waiting for ${what}; ${await describe().catch(() => "nothing matched")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const textOf = async (l: Locator) => ((await l.first().textContent()) ?? "").replace(/\s+/g, " ").trim();
const matches = (text: string, expected: string | RegExp) => (typeof expected === "string" ? text === expected : expected.test(text));

/** `await see(locator).text("Complete")` waits until the first match shows exactly that text. */
export function see(locator: Locator, timeout = 5000) {
  const describe = async () => `found "${await textOf(locator)}"`;
  return {
    visible: () => locator.first().waitFor({ state: "visible", timeout }),
    text: (expected: string | RegExp) => until(`text ${expected}`, async () => matches(await textOf(locator), expected), timeout, describe),
    notText: (old: string) => until(`text other than ${old}`, async () => (await textOf(locator)) !== old, timeout, describe),
    contains: (expected: string | RegExp) =>
      until(
        `text containing ${expected}`,
        async () => (typeof expected === "string" ? (await textOf(locator)).includes(expected) : expected.test(await textOf(locator))),
        timeout,
        describe,
      ),
    value: (expected: string) =>
      until(
        `value ${expected}`,
        async () => (await locator.inputValue()) === expected,
        timeout,
        async () => `found "${await locator.inputValue()}"`,
      ),
    enabled: () =>
      until(
        "enabled",
        () => locator.isEnabled(),
        timeout,
        async () => "it is disabled",
      ),
    disabled: () =>
      until(
        "disabled",
        () => locator.isDisabled(),
        timeout,
        async () => "it is enabled",
      ),
    count: (n: number) =>
      until(
        `${n} matches`,
        async () => (await locator.count()) === n,
        timeout,
        async () => `found ${await locator.count()}`,
      ),
    focused: () =>
      until(
        "focus",
        () => locator.evaluate((el) => el === document.activeElement),
        timeout,
        async () => "not focused",
      ),
  };
}
