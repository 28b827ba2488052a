// The journeys check every page they photograph with axe (browser.ts, expectAccessible): this
// shows the check itself sees what it must, on a page made to break the rules.
import type { Browser } from "playwright-core";
import { expectAccessible, launchChromium } from "./browser";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(() => browser?.close());

test("When a page has an image without a text, an unnamed button and faint text, then the check fails naming each", async () => {
  const page = await browser.newPage();
  await page.setContent(
    '<html lang="en"><head><title>Probe</title></head><body><main><img src="x.png"><button></button><p style="color:#777;background:#888">faint</p></main></body></html>',
  );
  const failure = await expectAccessible(page, "probe").then(
    () => undefined,
    (err: Error) => err.message,
  );
  expect(failure).toMatch(/image-alt/);
  expect(failure).toMatch(/button-name/);
  expect(failure).toMatch(/color-contrast/);
});

test("When the page keeps the rules, then the check passes", async () => {
  const page = await browser.newPage();
  await page.setContent(
    '<html lang="en"><head><title>Probe</title></head><body><main><h1>Tickets</h1><button>Buy</button></main></body></html>',
  );
  await expectAccessible(page, "probe");
});
