/** @jest-environment jsdom */
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { TicketForm } from "../components/TicketForm";
import { installFakeFetch, router } from "./fake-fetch";

jest.mock("next/navigation", () => ({ useRouter: () => jest.requireActual("./fake-fetch").router }));

function fill(title: string, price: string) {
  fireEvent.change(screen.getByLabelText("Title"), { target: { value: title } });
  fireEvent.change(screen.getByLabelText("Price"), { target: { value: price } });
}
const submit = () => fireEvent.click(screen.getByRole("button", { name: /list ticket for sale|save changes/i }));

/** The error message linked to an input through aria-describedby. */
function errorOf(label: string): string | null {
  const input = screen.getByLabelText(label);
  const id = input
    .getAttribute("aria-describedby")
    ?.split(" ")
    .find((i) => i.endsWith("-error"));
  return id ? (document.getElementById(id)?.textContent?.replace("⚠ ", "") ?? null) : null;
}

beforeEach(() => jest.clearAllMocks());

describe("TicketForm", () => {
  it("shows what is missing next to each field and sends nothing", () => {
    const { calls } = installFakeFetch({ status: 201, body: {} });
    render(<TicketForm />);
    submit();
    expect(errorOf("Title")).toBe("Enter a title");
    expect(errorOf("Price")).toBe("Enter a price");
    expect(screen.getByLabelText("Title").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(screen.getByLabelText("Title"));
    expect(calls).toHaveLength(0);
  });

  it.each([
    ["20", 20],
    ["20.5", 20.5],
    ["20.50", 20.5],
    ["$1,250", 1250],
  ])("accepts the price %s and sends %d", async (typed, sent) => {
    const { calls } = installFakeFetch({ status: 201, body: { id: "t1", title: "Jazz", price: sent } });
    render(<TicketForm />);
    fill("  Jazz night  ", typed);
    submit();
    await waitFor(() => expect(router.push).toHaveBeenCalledWith("/tickets/t1"));
    expect(calls[0]).toMatchObject({ url: "/api/tickets", method: "POST", body: { title: "Jazz night", price: sent } });
  });

  it.each([
    ["abc", "Enter a price in dollars, like 20 or 20.50"],
    ["20.505", "Use at most 2 decimals (cents)"],
    ["0", "The price must be more than $0"],
    ["-5", "Enter a price in dollars, like 20 or 20.50"],
    ["1000000.01", "The price can be at most $1,000,000"],
  ])("rejects the price %s", (typed, message) => {
    installFakeFetch({ status: 201, body: {} });
    render(<TicketForm />);
    fill("Jazz night", typed);
    submit();
    expect(errorOf("Price")).toBe(message);
    expect(errorOf("Title")).toBeNull();
  });

  it("rejects a title longer than 200 characters", () => {
    installFakeFetch({ status: 201, body: {} });
    render(<TicketForm />);
    fill("x".repeat(201), "20");
    submit();
    expect(errorOf("Title")).toMatch(/200 characters/);
  });

  it("puts the API's validation errors next to their fields and the rest on top", async () => {
    installFakeFetch({
      status: 400,
      body: { errors: [{ message: "Price must be at most 1,000,000", field: "price" }, { message: "Slow down" }] },
    });
    render(<TicketForm />);
    fill("Jazz night", "20");
    submit();
    await screen.findByRole("alert");
    expect(errorOf("Price")).toBe("Price must be at most 1,000,000");
    expect(screen.getByRole("alert").textContent).toBe("Slow down");
    expect(router.push).not.toHaveBeenCalled();
  });

  it("clears a field's error once the person edits it", () => {
    installFakeFetch({ status: 201, body: {} });
    render(<TicketForm />);
    submit();
    fireEvent.change(screen.getByLabelText("Price"), { target: { value: "2" } });
    expect(errorOf("Price")).toBeNull();
    expect(errorOf("Title")).toBe("Enter a title");
  });

  it("edits an existing ticket with PUT and shows why the API refused", async () => {
    const { calls } = installFakeFetch({ status: 400, body: { errors: [{ message: "Cannot edit a reserved ticket" }] } });
    render(<TicketForm ticket={{ id: "t9", title: "Old title", price: 20.5 }} />);
    expect((screen.getByLabelText("Price") as HTMLInputElement).value).toBe("20.50");
    fireEvent.change(screen.getByLabelText("Title"), { target: { value: "New title" } });
    submit();
    expect((await screen.findByRole("alert")).textContent).toBe("Cannot edit a reserved ticket");
    expect(calls[0]).toMatchObject({ url: "/api/tickets/t9", method: "PUT", body: { title: "New title", price: 20.5 } });
  });

  it("says so when the server cannot be reached", async () => {
    installFakeFetch();
    render(<TicketForm />);
    fill("Jazz night", "20");
    submit();
    expect((await screen.findByRole("alert")).textContent).toMatch(/could not reach TicketForge/);
  });
});
