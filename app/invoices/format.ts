const money = new Intl.NumberFormat("en-GB", { style: "currency", currency: "EUR" });

/** Cents as "€1,250.00". */
export function formatAmount(cents: number): string {
  return money.format(cents / 100);
}
