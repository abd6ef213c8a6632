/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The build goes under the repository's node_modules/.cache: outside the linted and
  // type-checked tree, and still inside the workspace root, as Next requires.
  distDir: "../../node_modules/.cache/claims-kit-bench/baseline",
};

export default nextConfig;
