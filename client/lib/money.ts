const formatter = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export function formatPrice(price: number): string {
  return formatter.format(price);
}

export const MAX_PRICE = 1_000_000;

/** Reads what a person types in a price field: "20", "20.5", "20.50", "$1,250". */
export function parsePrice(input: string): { value: number } | { error: string } {
  const text = input.trim().replace(/^\$\s*/, "");
  if (text === "") return { error: "Enter a price" };
  if (!/^(\d{1,3}(,\d{3})+|\d+)(\.\d*)?$/.test(text)) return { error: "Enter a price in dollars, like 20 or 20.50" };
  const [, cents = ""] = text.split(".");
  if (cents.length > 2) return { error: "Use at most 2 decimals (cents)" };
  const value = Number(text.replace(/,/g, ""));
  if (value <= 0) return { error: "The price must be more than $0" };
  if (value > MAX_PRICE) return { error: "The price can be at most $1,000,000" };
  return { value: Math.round(value * 100) / 100 };
}
