/** @jest-environment jsdom */
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { AuthForm } from "../components/AuthForm";
import { installFakeFetch } from "./fake-fetch";

const navigate = jest.fn();
jest.mock("../components/useAuthNavigation", () => ({ useAuthNavigation: () => navigate }));

function fill(email: string, password: string) {
  fireEvent.change(screen.getByLabelText("Email"), { target: { value: email } });
  fireEvent.change(screen.getByLabelText("Password"), { target: { value: password } });
}
const fieldError = (label: string) => {
  const id = screen
    .getByLabelText(label)
    .getAttribute("aria-describedby")
    ?.split(" ")
    .find((i) => i.endsWith("-error"));
  return id ? (document.getElementById(id)?.textContent?.replace("⚠ ", "") ?? null) : null;
};

beforeEach(() => jest.clearAllMocks());

describe("AuthForm", () => {
  it("checks the email and the password length before signing up", () => {
    const { calls } = installFakeFetch({ status: 201, body: {} });
    render(<AuthForm mode="signup" next="/" />);
    fill("not-an-email", "short");
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(fieldError("Email")).toBe("Enter an email address like name@example.com");
    expect(fieldError("Password")).toBe("Use at least 8 characters");
    expect(calls).toHaveLength(0);
  });

  it("signs up and goes to the page the person came from", async () => {
    const { calls } = installFakeFetch({ status: 201, body: { id: "u1", email: "ann@example.com" } });
    render(<AuthForm mode="signup" next="/tickets/new" />);
    fill(" ann@example.com ", "password1");
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    await waitFor(() => expect(navigate).toHaveBeenCalledWith("/tickets/new"));
    expect(calls[0]).toMatchObject({ url: "/api/users/signup", method: "POST", body: { email: "ann@example.com", password: "password1" } });
  });

  it("shows the API's answer, e.g. an email already in use", async () => {
    installFakeFetch({ status: 400, body: { errors: [{ message: "Email in use" }] } });
    render(<AuthForm mode="signup" next="/" />);
    fill("ann@example.com", "password1");
    fireEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Email in use");
    expect(navigate).not.toHaveBeenCalled();
  });

  it("does not hold signing in to the sign-up password rules", async () => {
    const { calls } = installFakeFetch({ status: 400, body: { errors: [{ message: "Invalid credentials" }] } });
    render(<AuthForm mode="signin" next="/" />);
    fill("ann@example.com", "short");
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Invalid credentials");
    expect(calls[0].url).toBe("/api/users/signin");
  });

  it("explains rate limiting with the wait from Retry-After", async () => {
    installFakeFetch({ status: 429, body: { errors: [{ message: "Too many requests" }] }, headers: { "Retry-After": "42" } });
    render(<AuthForm mode="signin" next="/" />);
    fill("ann@example.com", "password1");
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Too many attempts. Please try again in 42 seconds.");
  });

  it("labels every input", () => {
    render(<AuthForm mode="signup" next="/" />);
    for (const input of Array.from(document.querySelectorAll("input"))) {
      expect(document.querySelector(`label[for="${input.id}"]`)).not.toBeNull();
    }
  });
});
