import path from "node:path";
import { fileURLToPath } from "node:url";

// Both src/db/*.ts (tests, tsx) and dist/db/*.js (built package) sit two levels below the root.
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const migrationsDir = path.join(packageRoot, "prisma", "migrations");
export const schemaFile = path.join(packageRoot, "prisma", "schema.prisma");
