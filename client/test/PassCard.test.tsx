/** @jest-environment jsdom */
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { Pass } from "@ticketforge/common/api";
import { PassCard } from "../components/PassCard";
import { installFakeFetch, router } from "./fake-fetch";

jest.mock("next/navigation", () => ({ useRouter: () => jest.requireActual("./fake-fetch").router }));

const pass: Pass = { id: "p-1", orderId: "o-1", ticket: { id: "t-1", title: "Opera night" }, status: "valid" };
const code = { code: "A".repeat(114), expiresAt: new Date(Date.now() + 3_600_000).toISOString() };

beforeEach(() => jest.clearAllMocks());

describe("PassCard", () => {
  it("keeps saying the pass no longer works at the door after the page refreshes to 'transferred'", async () => {
    const { calls } = installFakeFetch({ status: 200, body: code }, { status: 201, body: { id: "p-2" } });
    const { rerender } = render(<PassCard pass={pass} />);
    await waitFor(() => expect(screen.getByTestId("pass-qr").getAttribute("data-code")).toBe(code.code));

    fireEvent.click(screen.getByText("Give this pass to someone"));
    fireEvent.change(screen.getByLabelText("Their email"), { target: { value: "friend@example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Transfer" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toContain("no longer works at the door"));
    expect(calls[1]).toMatchObject({ method: "POST", url: "/api/passes/p-1/transfer", body: { email: "friend@example.com" } });
    expect(router.refresh).toHaveBeenCalled();

    // what router.refresh() brings: the same card, now transferred
    rerender(<PassCard pass={{ ...pass, status: "transferred" }} />);
    expect(screen.getByRole("status").textContent).toBe("Given to friend@example.com. This pass no longer works at the door.");
    expect(screen.queryByTestId("pass-qr")).toBeNull();
    expect(screen.queryByRole("button", { name: "Transfer" })).toBeNull();
  });

  it("shows no transfer form on a pass given away before the page loaded", () => {
    installFakeFetch({ status: 200, body: code });
    render(<PassCard pass={{ ...pass, status: "transferred" }} />);
    expect(screen.queryByText("Give this pass to someone")).toBeNull();
    expect(screen.queryByRole("status")).toBeNull();
  });
});
