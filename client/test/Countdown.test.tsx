/** @jest-environment jsdom */
import { act, render, screen } from "@testing-library/react";
import { Countdown, formatRemaining } from "../components/Countdown";

const START = Date.parse("2030-01-01T12:00:00.000Z");

beforeEach(() => {
  jest.useFakeTimers();
  jest.setSystemTime(START);
});
afterEach(() => jest.useRealTimers());

const shown = () => screen.getByRole("timer").textContent;
const advance = (ms: number) => act(() => jest.advanceTimersByTime(ms));

describe("Countdown", () => {
  it("counts down every second to the expiry", () => {
    render(<Countdown expiresAt={new Date(START + 15 * 60_000).toISOString()} />);
    expect(shown()).toBe("15:00");
    advance(1000);
    expect(shown()).toBe("14:59");
    advance(59_000);
    expect(shown()).toBe("14:00");
  });

  it("reaches 0:00 exactly at expiry and calls onExpire once", () => {
    const onExpire = jest.fn();
    render(<Countdown expiresAt={new Date(START + 3000).toISOString()} onExpire={onExpire} />);
    advance(2500);
    expect(shown()).toBe("0:01");
    expect(onExpire).not.toHaveBeenCalled();
    advance(500);
    expect(shown()).toBe("0:00");
    expect(screen.getByText("Time is up")).toBeTruthy();
    advance(5000);
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it("shows 0:00 for an expiry already in the past", () => {
    const onExpire = jest.fn();
    render(<Countdown expiresAt={new Date(START - 60_000).toISOString()} onExpire={onExpire} />);
    expect(shown()).toBe("0:00");
    expect(onExpire).toHaveBeenCalledTimes(1);
  });

  it("follows the browser's clock once mounted, whatever the server said", () => {
    render(<Countdown expiresAt={new Date(START + 60_000).toISOString()} serverNow={START - 30_000} />);
    expect(shown()).toBe("1:00");
  });

  it("marks the last minute as urgent", () => {
    const { container } = render(<Countdown expiresAt={new Date(START + 61_000).toISOString()} />);
    expect(container.querySelector(".countdown-urgent")).toBeNull();
    advance(1000);
    expect(container.querySelector(".countdown-urgent")).not.toBeNull();
  });
});

describe("formatRemaining", () => {
  it.each([
    [0, "0:00"],
    [9, "0:09"],
    [61, "1:01"],
    [900, "15:00"],
    [3600, "1:00:00"],
    [3725, "1:02:05"],
    [-4, "0:00"],
  ])("%d seconds → %s", (seconds, text) => expect(formatRemaining(seconds)).toBe(text));
});
