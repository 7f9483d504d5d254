// Replays a Dockerfile's stages without Docker: each stage's filesystem is a temp directory, COPY
// copies from the build context (or an earlier stage), RUN runs with the host's node/npm (standing in
// for the base image's) in the mapped WORKDIR. Only what this project's Dockerfile may reasonably use
// is supported; anything else fails loudly, so the replay never silently diverges from a real build.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Instruction } from "dockerfile-ast";
import { execForm, flags, keyword, properties, type Stage, words } from "./dockerfile-model.js";
import { clean, globRegex } from "./dockerignore.js";

export interface BuiltStage {
  stage: Stage;
  /** The stage's `/`, on the host. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
}

export interface ReplayOptions {
  contextDir: string;
  /** Context files, relative, `/`-separated (see buildContext). */
  contextFiles: string[];
  /** An empty directory to hold the stages. */
  into: string;
  /** Told each instruction replayed and how long it took (for timing a slow build). */
  onStep?(step: string, ms: number): void;
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const hostNodeBin = path.dirname(process.execPath);

/** How this machine reaches the registry (its proxy, its CA): without them npm's requests fail and it
 * falls back to its cache only after long retries. */
const networkVariables =
  /^(https?_proxy|no_proxy|all_proxy|node_extra_ca_certs|ssl_cert_(file|dir)|npm_config_(registry|cache|proxy|https_proxy|cafile))$/i;

/** The host environment a RUN or the entrypoint gets: the current node/npm first on PATH, the npm
 * cache and config of this machine (HOME), its network settings, and nothing else of the test's
 * environment (no DATABASE_URL, no token, no npm_* of an enclosing `npm test`). */
function baseEnv(home: string | undefined): Record<string, string> {
  const env: Record<string, string> = { PATH: `${hostNodeBin}${path.delimiter}${process.env.PATH ?? ""}` };
  if (home) env.HOME = home;
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && networkVariables.test(name)) env[name] = value;
  }
  return env;
}

export function exec(file: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function hostPath(built: BuiltStage, containerPath: string): string {
  return path.join(built.root, path.posix.resolve(built.workdir, containerPath));
}

async function copyEntry(from: string, to: string): Promise<void> {
  await fs.mkdir(path.dirname(to), { recursive: true });
  await fs.cp(from, to, { recursive: true, verbatimSymlinks: true, force: true });
}

/** COPY sources in the build context: a file, a directory (its contents are copied), or a glob. */
function matchContext(files: string[], source: string): { path: string; dir: boolean }[] {
  const wanted = clean(source);
  const dirs = new Set(
    files.flatMap((file) =>
      file
        .split("/")
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join("/")),
    ),
  );
  if (wanted === "") return [{ path: "", dir: true }];
  if (!/[*?[]/.test(wanted)) {
    if (files.includes(wanted)) return [{ path: wanted, dir: false }];
    return dirs.has(wanted) ? [{ path: wanted, dir: true }] : [];
  }
  const regex = globRegex(wanted);
  return [
    ...files.filter((f) => regex.test(f)).map((f) => ({ path: f, dir: false })),
    ...[...dirs].filter((d) => regex.test(d)).map((d) => ({ path: d, dir: true })),
  ];
}

async function replayCopy(instruction: Instruction, built: BuiltStage, stages: BuiltStage[], options: ReplayOptions): Promise<void> {
  const copyFlags = flags(instruction);
  for (const name of copyFlags.keys()) {
    // Ownership and layer linking do not change which files end up where.
    if (!["from", "chown", "chmod", "link"].includes(name)) throw new Error(`replay: COPY --${name} is not supported`);
  }
  const args = words(instruction);
  if (args.length < 2 || args.some((a) => a.includes("$"))) throw new Error(`replay: unsupported COPY ${args.join(" ")}`);
  const destination = args.at(-1)!;
  const sources = args.slice(0, -1);
  const target = path.posix.resolve(built.workdir, destination);
  const from = copyFlags.get("from");

  const entries: { host: string; name: string; dir: boolean }[] = [];
  for (const source of sources) {
    if (from !== undefined) {
      const origin = stages.find((s) => s.stage.name === from || String(s.stage.index) === from);
      if (!origin) throw new Error(`replay: COPY --from=${from} names no earlier stage (external images are not supported)`);
      const host = path.join(origin.root, path.posix.resolve("/", source));
      const stat = await fs.lstat(host).catch(() => undefined);
      if (!stat) throw new Error(`replay: COPY --from=${from} ${source}: not found in that stage`);
      entries.push({ host, name: path.posix.basename(source), dir: stat.isDirectory() });
    } else {
      const matches = matchContext(options.contextFiles, source);
      if (matches.length === 0) throw new Error(`replay: COPY ${source}: not found in the build context`);
      entries.push(...matches.map((m) => ({ host: path.join(options.contextDir, m.path), name: path.posix.basename(m.path), dir: m.dir })));
    }
  }
  const intoDirectory = destination.endsWith("/") || entries.length > 1;
  if (entries.length > 1 && !destination.endsWith("/"))
    throw new Error(`replay: COPY with several sources needs a destination ending in /`);
  for (const entry of entries) {
    if (entry.dir && from === undefined) {
      // Only the context's files under the directory: ignored ones (node_modules, .env) stay out.
      const prefix = path.relative(options.contextDir, entry.host);
      for (const file of options.contextFiles.filter((f) => prefix === "" || f.startsWith(`${prefix}/`))) {
        await copyEntry(
          path.join(options.contextDir, file),
          path.join(built.root, target, prefix === "" ? file : file.slice(prefix.length + 1)),
        );
      }
    } else if (entry.dir) {
      await copyEntry(entry.host, path.join(built.root, target));
    } else {
      await copyEntry(entry.host, path.join(built.root, intoDirectory ? path.posix.join(target, entry.name) : target));
    }
  }
}

async function replayRun(instruction: Instruction, built: BuiltStage): Promise<void> {
  for (const [name, value] of flags(instruction)) {
    // A cache mount only speeds a real build up; the host's npm cache plays its part here.
    if (name === "mount" && /(^|,)type=cache(,|$)/.test(value ?? "")) continue;
    if (name === "network") continue;
    throw new Error(`replay: RUN --${name}=${value} is not supported`);
  }
  const argv = execForm(instruction) ?? ["/bin/sh", "-c", instruction.getArgumentsContent() ?? ""];
  const cwd = hostPath(built, ".");
  // prefer-offline: the lockfile pins every version and integrity, so packages already in this
  // machine's npm cache (the checkout's own `npm ci` put them there) are used without revalidation;
  // the replay then also works offline, like the rest of `npm test`.
  const env = { ...baseEnv(process.env.HOME), npm_config_prefer_offline: "true", ...built.env };
  const result = await exec(argv[0]!, argv.slice(1), { cwd, env });
  if (result.code !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.slice(-6000);
    throw new Error(`replay: RUN ${argv.join(" ")} exited with ${result.code}:\n${output}`);
  }
}

async function replayStage(stage: Stage, stages: BuiltStage[], options: ReplayOptions): Promise<BuiltStage> {
  const root = path.join(options.into, `stage-${stage.index}${stage.name ? `-${stage.name}` : ""}`);
  const base = stages.find((s) => s.stage.name === stage.from.getImage());
  const built: BuiltStage = { stage, root, workdir: "/", env: {} };
  if (base) {
    await fs.cp(base.root, root, { recursive: true, verbatimSymlinks: true });
    Object.assign(built, {
      workdir: base.workdir,
      env: { ...base.env },
      user: base.user,
      entrypoint: base.entrypoint,
      cmd: base.cmd,
      root,
    });
  } else {
    await fs.mkdir(root, { recursive: true }); // the base image's own files are the host's node
  }
  for (const instruction of stage.instructions) {
    const started = performance.now();
    await replayInstruction(instruction, built, stages, options);
    options.onStep?.(`stage ${stage.index}: ${String(instruction).split("\n")[0]}`, performance.now() - started);
  }
  return built;
}

async function replayInstruction(instruction: Instruction, built: BuiltStage, stages: BuiltStage[], options: ReplayOptions): Promise<void> {
  const kind = keyword(instruction);
  if (kind === "WORKDIR") {
    const [dir] = words(instruction);
    if (!dir || dir.includes("$")) throw new Error(`replay: unsupported WORKDIR ${dir}`);
    built.workdir = path.posix.resolve(built.workdir, dir);
    await fs.mkdir(hostPath(built, "."), { recursive: true });
  } else if (kind === "ENV" || kind === "ARG") {
    for (const [name, value] of properties(instruction)) if (value !== null) built.env[name] = value;
  } else if (kind === "COPY") {
    await replayCopy(instruction, built, stages, options);
  } else if (kind === "RUN") {
    await replayRun(instruction, built);
  } else if (kind === "USER") {
    built.user = words(instruction)[0];
  } else if (kind === "ENTRYPOINT" || kind === "CMD") {
    const argv = execForm(instruction) ?? ["/bin/sh", "-c", instruction.getArgumentsContent() ?? ""];
    if (kind === "ENTRYPOINT") built.entrypoint = argv;
    else built.cmd = argv;
  } else if (!["LABEL", "EXPOSE", "STOPSIGNAL", "HEALTHCHECK"].includes(kind)) {
    // Metadata above changes no file; ADD, SHELL, VOLUME, ONBUILD would, and are not replayed.
    throw new Error(`replay: ${kind} is not supported`);
  }
}

/** Replays every stage in order; returns them (the last one is the image). */
export async function replayBuild(stages: Stage[], options: ReplayOptions): Promise<BuiltStage[]> {
  const built: BuiltStage[] = [];
  for (const stage of stages) built.push(await replayStage(stage, built, options));
  return built;
}

/**
 * Runs the image's ENTRYPOINT with `args` in place of CMD, as `docker run image args...` would: in its
 * WORKDIR, with its ENV. Absolute paths that exist in the image point into the replayed stage; `node`
 * (the base image's) is the host's, or `node` (an older runtime, for the image's Node check).
 */
export function runEntrypoint(
  image: BuiltStage,
  args: string[],
  options: { home: string; env?: Record<string, string>; node?: string },
): Promise<ProcessResult> {
  if (!image.entrypoint) throw new Error("the image has no ENTRYPOINT");
  const argv = [...image.entrypoint, ...args].map((arg) =>
    arg.startsWith("/") && existsSync(path.join(image.root, arg)) ? path.join(image.root, arg) : arg,
  );
  const file = path.posix.basename(argv[0]!) === "node" ? (options.node ?? process.execPath) : argv[0]!;
  return exec(file, argv.slice(1), { cwd: hostPath(image, "."), env: { ...baseEnv(options.home), ...image.env, ...options.env } });
}
