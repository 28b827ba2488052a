import { networkOf } from "../src";

// Every per-address limit (auth's sign-up and sign-in, payments' attempts) counts networks, not
// addresses, so that rotating addresses within one allocation changes nothing.
describe("the network an address is counted as", () => {
  test("When the address is IPv4, plain or mapped into IPv6, then it is the address itself", () => {
    expect(networkOf("203.0.113.7")).toBe("203.0.113.7");
    expect(networkOf("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(networkOf("::FFFF:127.0.0.1")).toBe("127.0.0.1");
  });

  test("When the address is IPv6, then it is its /64, however it is written", () => {
    expect(networkOf("2001:db8:7:1::1")).toBe("2001:db8:7:1::/64");
    expect(networkOf("2001:0db8:0007:0001:ffff:0:0:2")).toBe("2001:db8:7:1::/64");
    expect(networkOf("2001:DB8:7:1:abcd::9")).toBe("2001:db8:7:1::/64");
    expect(networkOf("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(networkOf("2001:db8:7:2::1")).not.toBe(networkOf("2001:db8:7:1::1"));
  });

  test("When the text is no address, then it is counted as it is", () => {
    expect(networkOf("unknown")).toBe("unknown");
  });
});
