import { NextRequest } from "next/server";
import { proxy } from "../proxy";
import nextConfig from "../next.config";

const policyOf = (res: Response) => res.headers.get("content-security-policy") ?? "";
const directive = (policy: string, name: string) => policy.split("; ").find((d) => d.startsWith(`${name} `)) ?? "";

describe("the web app's Content-Security-Policy", () => {
  test("When a page is asked for, then scripts run only with a fresh nonce of this answer, and nothing may frame it", () => {
    const first = proxy(new NextRequest("http://ticketforge.local/tickets"));
    const second = proxy(new NextRequest("http://ticketforge.local/tickets"));
    const policy = policyOf(first);
    const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
    expect(nonce).toBeDefined();
    expect(policyOf(second)).not.toContain(nonce);
    expect(directive(policy, "script-src")).toMatch(/'strict-dynamic'/);
    expect(directive(policy, "script-src")).not.toMatch(/'unsafe-inline'|'unsafe-eval'/);
    expect(directive(policy, "frame-ancestors")).toBe("frame-ancestors 'none'");
    expect(directive(policy, "object-src")).toBe("object-src 'none'");
    expect(directive(policy, "base-uri")).toBe("base-uri 'self'");
  });

  test("When a page is rendered, then Next.js is handed the same policy, so it can put the nonce on its scripts", () => {
    const res = proxy(new NextRequest("http://ticketforge.local/"));
    // NextResponse.next passes overridden request headers as x-middleware-request-* headers
    expect(res.headers.get("x-middleware-request-content-security-policy")).toBe(policyOf(res));
    expect(policyOf(res)).toContain(`'nonce-${res.headers.get("x-middleware-request-x-nonce")}'`);
  });

  test("When any file of the web app is served, then it forbids sniffing, framing and cross-origin referrers", async () => {
    const rules = await nextConfig.headers!();
    const all = rules.find((r) => r.source === "/:path*");
    expect(all?.headers).toEqual(
      expect.arrayContaining([
        { key: "X-Content-Type-Options", value: "nosniff" },
        { key: "Referrer-Policy", value: "same-origin" },
        { key: "X-Frame-Options", value: "DENY" },
      ]),
    );
  });
});
