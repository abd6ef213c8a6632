import { stepUpRoute } from "@/auth";

// requireRecentAuth() sends the user here when a sensitive action needs a recent (or stronger)
// authentication: a sign-in at the provider with max_age / acr_values, back to where they were.
export const { GET } = stepUpRoute;
