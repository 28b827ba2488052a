import request from "supertest";
import { type TestService } from "@ticketforge/common/testing";

export async function createTicket(service: TestService, cookie: string, body: object = { title: "Concert", price: 20 }) {
  const res = await request(service.app).post("/api/tickets").set("Cookie", cookie).send(body);
  if (res.status !== 201) throw new Error(`creating a ticket: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as {
    id: string;
    title: string;
    price: number;
    userId?: string;
    version: number;
    orderId?: string | null;
    status: string;
  };
}

/** A ticket as `cookie`'s user sees it (anonymously by default: without its seller and order). */
export async function getTicket(service: TestService, id: string, cookie = "") {
  return (await request(service.app).get(`/api/tickets/${id}`).set("Cookie", cookie)).body;
}
