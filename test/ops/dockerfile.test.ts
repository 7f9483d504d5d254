// The Dockerfile, checked without Docker: its policy (pinned base, stages, non-root user, exec-form
// entrypoint, no secrets, .dockerignore), then a replay of its build from the instructions it holds
// (see replay.ts) and the resulting image's CLI run: --help, run without a token, migrate and run
// against a real database and the simulator.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { oldNode, repoRoot } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/database.js";
import { seededSimulator, testToken } from "../helpers/sync.js";
import { buildContext } from "./build-context.js";
import { execForm, flags, lastOf, ofKind, properties, readStages, words } from "./dockerfile-model.js";
import { isIgnored, parseDockerignore } from "./dockerignore.js";
import { type BuiltStage, replayBuild, runEntrypoint } from "./replay.js";

const stages = readStages(path.join(repoRoot, "Dockerfile"));
const finalStage = stages.at(-1)!;
const packageJson = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));
const minimumNodeMajor = Number(/\d+/.exec(packageJson.engines.node)![0]);

/** Stages built from an image, not from an earlier stage. */
const imageStages = stages.filter((stage) => !stages.some((s) => s.index < stage.index && s.name === stage.from.getImage()));

describe("Dockerfile policy", () => {
  test("every base image is pinned to an exact version (no latest, no floating major) and the same in every stage", () => {
    expect(imageStages.length).toBeGreaterThan(0);
    for (const stage of imageStages) {
      const image = stage.from.getImage();
      const tag = stage.from.getImageTag();
      const digest = stage.from.getImageDigest();
      expect({ image, pinned: Boolean(digest) || /^\d+\.\d+\.\d+(-[a-z0-9][a-z0-9.-]*)?$/.test(tag ?? "") }).toEqual({
        image,
        pinned: true,
      });
      expect(tag).not.toMatch(/latest|lts|current/);
      if (stage.from.getImageName() === "node" && tag) expect(Number(tag.split(".")[0])).toBeGreaterThanOrEqual(minimumNodeMajor);
    }
    // The build stage's node_modules (native binaries included) runs in the final stage: same image.
    expect(new Set(imageStages.map((s) => s.from.getImage())).size).toBe(1);
  });

  test("multi-stage: the final stage copies its files from an earlier stage", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const earlier = new Set(stages.slice(0, -1).flatMap((s) => [String(s.index), s.name]));
    const fromEarlier = ofKind(finalStage, "COPY").filter((copy) => earlier.has(flags(copy).get("from") ?? undefined));
    expect(fromEarlier.length).toBeGreaterThan(0);
    // Nothing in the final stage comes straight from the build context, and nothing is installed there.
    expect(
      ofKind(finalStage, "COPY")
        .filter((copy) => !flags(copy).has("from"))
        .map(String),
    ).toEqual([]);
    expect(ofKind(finalStage, "RUN", "ADD").map(String)).toEqual([]);
  });

  test("the final stage runs as a numeric non-root USER", () => {
    const user = lastOf(finalStage, "USER");
    expect(user).toBeDefined();
    const [uid, gid] = words(user!)[0]!.split(":");
    // Numeric, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
    expect(uid).toMatch(/^[1-9]\d*$/);
    if (gid !== undefined) expect(gid).toMatch(/^[1-9]\d*$/);
  });

  test("ENTRYPOINT (and CMD) are in exec form, so signals reach node directly", () => {
    const entrypoints = stages.flatMap((s) => ofKind(s, "ENTRYPOINT"));
    expect(ofKind(finalStage, "ENTRYPOINT")).toHaveLength(1);
    for (const instruction of [...entrypoints, ...stages.flatMap((s) => ofKind(s, "CMD"))]) {
      expect({ instruction: String(instruction), exec: execForm(instruction) !== undefined }).toEqual({
        instruction: String(instruction),
        exec: true,
      });
    }
    expect(execForm(ofKind(finalStage, "ENTRYPOINT")[0]!)).toEqual(["node", expect.stringMatching(/\/bin\/generect-sync\.js$/)]);
  });

  test("the image runs node with the heap flags of the CLI's shebang, which `node <file>` would not read", () => {
    const shebang = readFileSync(path.join(repoRoot, "bin/generect-sync.js"), "utf8").split("\n")[0]!;
    const shebangFlags = shebang.split(/\s+/).filter((word) => word.startsWith("--"));
    expect(shebangFlags).toEqual(
      expect.arrayContaining([expect.stringMatching(/^--max-semi-space-size=\d+$/), expect.stringMatching(/^--max-old-space-size=\d+$/)]),
    );
    const env = new Map(ofKind(finalStage, "ENV").flatMap(properties));
    expect((env.get("NODE_OPTIONS") ?? "").split(/\s+/)).toEqual(shebangFlags);
  });

  test("no ENV or ARG looks like a secret, and no URL carries credentials", () => {
    for (const stage of stages) {
      for (const instruction of ofKind(stage, "ENV", "ARG")) {
        for (const [name, value] of properties(instruction)) {
          expect(name).not.toMatch(/TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|CREDENTIAL|PRIVATE/i);
          expect(value ?? "").not.toMatch(/[a-z]+:\/\/[^/\s@:]*:[^/\s@]+@/i);
        }
      }
    }
    expect(readFileSync(path.join(repoRoot, "Dockerfile"), "utf8")).not.toMatch(/[a-z]+:\/\/[^/\s@:]*:[^/\s@]+@/i);
  });

  test(".dockerignore keeps secrets, local state, installs and git out of the build context", () => {
    const rules = parseDockerignore(readFileSync(path.join(repoRoot, ".dockerignore"), "utf8"));
    const excluded = [
      ".env",
      ".env.local",
      "prod.env",
      "config/.env",
      "src/x/.env.production",
      "node_modules/pg/package.json",
      "bin/node_modules/x.js",
      ".git/HEAD",
      ".generect-sync/database-url",
      ".generect-sync/pg/PG_VERSION",
      "dist/cli/index.js",
    ];
    expect(excluded.filter((file) => !isIgnored(rules, file))).toEqual([]);
    // What the build needs stays in.
    const needed = [
      "package.json",
      "package-lock.json",
      "prisma.config.ts",
      "tsconfig.json",
      "tsconfig.build.json",
      "prisma/schema.prisma",
      "src/cli/main.ts",
      "src/tools/prepare.mjs",
      "bin/generect-sync.js",
    ];
    expect(needed.filter((file) => isIgnored(rules, file))).toEqual([]);
    expect(
      buildContext(repoRoot).filter((file) => /(^|\/)(\.env(\..*)?|[^/]*\.env)$|(^|\/)(\.generect-sync|node_modules|\.git)\//.test(file)),
    ).toEqual([]);
  });
});

describe("the image, built by replaying the Dockerfile", () => {
  let tempDir: string;
  let image: BuiltStage;
  let db: TestDatabase | undefined;
  let sim: SimulatorHandle | undefined;
  const home = () => path.join(tempDir, "home");

  beforeAll(async () => {
    tempDir = await fs.mkdtemp(path.join(os.tmpdir(), "generect-docker-replay-"));
    await fs.mkdir(home());
    const built = await replayBuild(stages, {
      contextDir: repoRoot,
      contextFiles: buildContext(repoRoot),
      into: path.join(tempDir, "stages"),
    });
    image = built.at(-1)!;
  }, 300_000);

  afterAll(async () => {
    await sim?.close();
    await db?.drop();
    if (tempDir) await fs.rm(tempDir, { recursive: true, force: true });
  });

  test("`--help` exits 0 and lists the commands", async () => {
    const result = await runEntrypoint(image, ["--help"], { home: home() });
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining("Commands:") });
  });

  // A base image bumped (or swapped) to an older Node: the entrypoints say so instead of failing later.
  (oldNode() ? test : test.skip)(
    "on a Node older than 22, the entrypoint and the job entrypoints exit 2 and say which Node they need",
    async () => {
      const node = oldNode()!;
      const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim().slice(1);
      for (const entrypoint of [image.entrypoint!, ["node", "jobs/sync.mjs"]]) {
        const result = await runEntrypoint({ ...image, entrypoint }, ["--help"], { home: home(), node });
        expect(result).toMatchObject({ code: 2, stdout: "", stderr: `generect-sync needs Node.js 22 or newer (found ${version})\n` });
      }
    },
  );

  test("`run` without GENERECT_API_TOKEN exits 2 and names the variable", async () => {
    const result = await runEntrypoint(image, ["run"], { home: home() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("GENERECT_API_TOKEN");
  });

  test("`migrate` then `run` work from the image against a real database and the simulator", async () => {
    db = await createTestDatabase("docker-image");
    sim = await seededSimulator(11, 120, 20);
    const env = { DATABASE_URL: db.url, GENERECT_API_URL: sim.url, GENERECT_API_TOKEN: testToken, SYNC_ACCOUNT: "image" };
    const migrations = (await fs.readdir(path.join(repoRoot, "prisma/migrations"), { withFileTypes: true })).filter((e) => e.isDirectory());
    const migrate = await runEntrypoint(image, ["migrate"], { home: home(), env });
    expect(migrate).toMatchObject({ code: 0, stdout: expect.stringContaining(`applied ${migrations.length} migration(s)`) });
    const run = await runEntrypoint(image, ["run"], { home: home(), env });
    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/succeeded: .* 120 rows seen/) });
    expect(run.stdout + run.stderr).not.toContain(testToken);
  }, 60_000);

  test("the image holds production dependencies and built output only", async () => {
    const app = path.join(image.root, image.workdir);
    const lock = JSON.parse(readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([key, entry]) => key.startsWith("node_modules/") && entry.dev)
      .map(([key]) => key);
    expect(devOnly.length).toBeGreaterThan(0);
    const present = await Promise.all(
      devOnly.map(async (key) => ((await fs.lstat(path.join(app, key)).catch(() => undefined)) ? key : undefined)),
    );
    expect(present.filter(Boolean)).toEqual([]);
    const missing = Object.keys(packageJson.dependencies).filter((name) => !isPackage(path.join(app, "node_modules", name)));
    expect(missing).toEqual([]);
    // Sources, tests and local state stay out; the CLI runs from dist/.
    const top = (await fs.readdir(app)).sort();
    expect(top.filter((name) => ["src", "test", ".env", ".generect-sync", ".git"].includes(name))).toEqual([]);
    expect(top).toEqual(expect.arrayContaining(["dist", "node_modules", "package.json", "jobs"]));
    // jobs/ brings its entrypoints, not the manifests.
    expect((await fs.readdir(path.join(app, "jobs"))).sort()).toEqual(["entry.mjs", "snapshot.mjs", "sync.mjs", "worker.mjs"]);
  });

  test("the job entrypoints run from the image", async () => {
    for (const job of ["sync", "snapshot", "worker"]) {
      const result = await runEntrypoint({ ...image, entrypoint: ["node", `jobs/${job}.mjs`] }, ["--help"], { home: home() });
      expect({ job, code: result.code }).toEqual({ job, code: 0 });
      expect(result.stdout).toContain("Usage: generect-sync");
    }
  });
});

function isPackage(dir: string): boolean {
  return existsSync(path.join(dir, "package.json"));
}
