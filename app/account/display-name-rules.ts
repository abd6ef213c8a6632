// Why a display name is refused, in the words of the setDisplayName intent's schema
// (auth.config.ts): the server answers only the code `invalid_input`, the page says which rule.

/** The rule a display name breaks, or null when the server's schema should accept it. */
export function displayNameProblem(value: string): string | null {
  const trimmed = value.trim();
  if (trimmed.length < 1 || trimmed.length > 60) return "Display name must be 1-60 characters.";
  if (/\p{Cc}/u.test(trimmed)) return "Display name cannot contain control characters.";
  return null;
}
