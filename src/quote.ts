/**
 * A value as messages repeat it. A long one is cut short with its length: a 2 MB paste must not
 * come back as a 2 MB error message, and the start is enough to recognise it.
 */
const LONGEST_SHOWN = 200;
const SHOWN_OF_LONG = 80;

/** The value, or `the start... (N characters)` when it is long. */
export function cut(value: string): string {
  if (value.length <= LONGEST_SHOWN) return value;
  return `${value.slice(0, SHOWN_OF_LONG)}... (${value.length} characters)`;
}

/** `"value"`, or `"the start..." (N characters)` when the value is long. */
export function quote(value: string): string {
  if (value.length <= LONGEST_SHOWN) return `"${value}"`;
  return `"${value.slice(0, SHOWN_OF_LONG)}..." (${value.length} characters)`;
}

/** Any value as JSON, cut short the same way: what a config file or a JavaScript caller gave. */
export function showJson(value: unknown): string {
  // JSON.stringify gives undefined for undefined and functions, whatever its declared type says.
  const text = (JSON.stringify(value) as string | undefined) ?? String(value);
  if (text.length <= LONGEST_SHOWN) return text;
  return `${text.slice(0, SHOWN_OF_LONG)}... (${text.length} characters)`;
}
