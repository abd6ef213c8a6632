// Where to send the user after sign-in: only a path on this site (never another origin, never a
// protocol-relative "//host" or "/\host" that browsers treat as one). The kit's own check.
export { sameOriginPath as safeReturnTo } from "@/lib/claims-kit/oidc";
