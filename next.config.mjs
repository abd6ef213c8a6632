/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // `forbidden()` renders app/forbidden.tsx with a 403 status for server-checked pages.
  experimental: { authInterrupts: true },
};

export default nextConfig;
