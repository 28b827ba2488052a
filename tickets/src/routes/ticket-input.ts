import { z } from "zod";
import { plainText, priceInput } from "@ticketforge/common";

/** Creating and editing a ticket take the same body. */
export const ticketInput = z.object(
  {
    title: plainText("Title must be a string", "Title must not contain control or text-direction characters")
      .trim()
      .min(1, "Title is required")
      .max(200, "Title must be at most 200 characters"),
    price: priceInput,
  },
  { message: "The body must be an object with a title and a price" },
);
