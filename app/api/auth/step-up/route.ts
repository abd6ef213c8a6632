import { stepUpRoute } from "@/auth";
export const { GET } = stepUpRoute;
