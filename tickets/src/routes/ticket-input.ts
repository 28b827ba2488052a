import { z } from "zod";
import { priceInput } from "@ticketforge/common";

/** Creating and editing a ticket take the same body. */
export const ticketInput = z.object(
  {
    title: z
      .string({ message: "Title must be a string" })
      .trim()
      .min(1, "Title is required")
      .max(200, "Title must be at most 200 characters"),
    price: priceInput,
  },
  { message: "The body must be an object with a title and a price" },
);
