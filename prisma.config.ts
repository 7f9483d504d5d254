import { defineConfig } from "prisma/config";

// `prisma migrate deploy` (for users who have the schema-engine binary) reads the same folder that
// `generect-sync migrate` applies without one.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" },
});
