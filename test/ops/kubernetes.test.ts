// jobs/kubernetes, checked offline: every document valid against the Kubernetes schemas, then the
// operating policy (schedule and deadlines, resources, security context, secrets only by reference,
// pinned images, container args the CLI really has), and the kustomizations rendered by kubectl.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "@jest/globals";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import { loadAccounts } from "../../src/config/accounts.js";
import { loadConfig } from "../../src/config/index.js";
import { readDbConnections } from "../../src/job/fleet-budget.js";
import { readinessTimeoutMs } from "../../src/job/worker.js";
import { workerPaths } from "../../src/job/worker-http.js";
import { repoRoot, runCli } from "../helpers/cli.js";
import { lastOf, readStages, words } from "./dockerfile-model.js";
import {
  bytes,
  containersOf,
  kustomizeApiVersion,
  loadManifests,
  type Manifest,
  parseDocuments,
  podSpecOf,
  validateManifest,
} from "./manifests.js";

const dir = path.join(repoRoot, "jobs/kubernetes");
const all = loadManifests(dir);
const resources = all.filter((m) => !kustomizeApiVersion.test(m.apiVersion));
const kustomizations = all.filter((m) => kustomizeApiVersion.test(m.apiVersion));
const workloads = resources.filter((m) => podSpecOf(m) !== undefined);
const exampleSecretFile = "secret.example.yaml";
const version = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).version as string;
const imageUid = Number(words(lastOf(readStages(path.join(repoRoot, "Dockerfile")).at(-1)!, "USER")!)[0]!.split(":")[0]);

const pods = workloads.map((m) => ({ manifest: m, pod: podSpecOf(m)! }));
const containers = pods.flatMap(({ manifest, pod }) => containersOf(pod).map((container) => ({ manifest, pod, container })));
const only = (kind: string) => resources.filter((m) => m.kind === kind);
const label = (m: Manifest, name?: string) => `${m.file} ${m.kind}/${m.name}${name ? ` ${name}` : ""}`;

/** Names that hold credentials wherever they appear (env var names, ConfigMap keys). */
const secretName = /TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|CREDENTIAL|PRIVATE|DATABASE_URL/i;
/** A URL with a password in it. */
const credentialUrl = /[a-z]+:\/\/[^/\s@:]*:[^/\s@]+@/i;

function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

describe("jobs/kubernetes manifests", () => {
  test("are found: a CronJob, a migrate Job, a worker Deployment, the ConfigMap and the example Secret", () => {
    expect(resources.map((m) => `${m.kind} ${m.file}`).sort()).toEqual(
      expect.arrayContaining([
        "ConfigMap base/configmap.yaml",
        "CronJob cronjob.yaml",
        "Deployment worker/deployment.yaml",
        "Job migrate-job.yaml",
        "Secret secret.example.yaml",
      ]),
    );
  });

  test("every document is valid against the Kubernetes API schemas (offline)", async () => {
    for (const manifest of resources) await validateManifest(manifest);
    // The validator itself: an unknown kind and a wrong field type are caught.
    const cronJob = only("CronJob")[0]!;
    await expect(validateManifest({ ...cronJob, kind: "CronJobs", object: { ...cronJob.object, kind: "CronJobs" } })).rejects.toThrow(
      /unknown kind/,
    );
    await expect(
      validateManifest({ ...cronJob, apiVersion: "batch/v9", object: { ...cronJob.object, apiVersion: "batch/v9" } }),
    ).rejects.toThrow(/unknown apiVersion/);
    const broken = structuredClone(cronJob.object);
    broken.spec.startingDeadlineSeconds = "ten minutes";
    await expect(validateManifest({ ...cronJob, object: broken })).rejects.toThrow(/startingDeadlineSeconds/);
  });

  test("kustomizations list resources that exist, and leave the example Secret and the one-off Job out", () => {
    expect(kustomizations.length).toBeGreaterThan(0);
    const listed: string[] = [];
    for (const k of kustomizations) {
      expect(k.kind).toBe("Kustomization");
      const base = path.posix.dirname(k.file);
      for (const entry of k.object.resources as string[]) {
        const target = path.join(dir, base, entry);
        expect({ entry, exists: existsSync(target) }).toEqual({ entry, exists: true });
        if (!/\.ya?ml$/.test(entry)) expect(existsSync(path.join(target, "kustomization.yaml"))).toBe(true);
        listed.push(path.posix.normalize(path.posix.join(base, entry)));
      }
    }
    expect(listed).not.toContain(exampleSecretFile);
    expect(listed).not.toContain("migrate-job.yaml");
  });

  test("the CronJob runs `run` every 15 minutes, one at a time, within deadlines, keeping a short history", () => {
    const [cronJob, ...others] = only("CronJob").filter((m) => !m.file.startsWith("fleet/"));
    expect(others).toEqual([]);
    const spec = cronJob!.object.spec;
    expect(spec.schedule).toBe("*/15 * * * *");
    expect(spec.concurrencyPolicy).toBe("Forbid");
    // Shorter than the interval: a late start never runs into the next slot.
    expect(spec.startingDeadlineSeconds).toBeGreaterThan(0);
    expect(spec.startingDeadlineSeconds).toBeLessThan(15 * 60);
    expect(spec.successfulJobsHistoryLimit).toBeGreaterThanOrEqual(1);
    expect(spec.failedJobsHistoryLimit).toBeGreaterThanOrEqual(1);
    const job = spec.jobTemplate.spec;
    expect(job.backoffLimit).toBeGreaterThanOrEqual(0);
    expect(job.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(job.template.spec.restartPolicy).toBe("Never");
    expect(job.template.spec.containers.map((c: { args: string[] }) => c.args)).toEqual([["run"]]);
    // Configuration errors (2) and a held lock (75) are not retried.
    const failJob = job.podFailurePolicy?.rules?.find((r: { action: string }) => r.action === "FailJob");
    expect(failJob?.onExitCodes).toMatchObject({ operator: "In", values: expect.arrayContaining([2, 75]) });
  });

  test("the one-off migrate Job and the worker Deployment are bounded and single", () => {
    for (const job of only("Job")) {
      expect(job.object.spec).toMatchObject({
        backoffLimit: expect.any(Number),
        activeDeadlineSeconds: expect.any(Number),
        ttlSecondsAfterFinished: expect.any(Number),
      });
      expect(job.object.spec.template.spec.restartPolicy).toBe("Never");
    }
    for (const deployment of only("Deployment")) {
      // One worker, never two during a rollout.
      expect(deployment.object.spec).toMatchObject({ replicas: 1, strategy: { type: "Recreate" } });
    }
  });

  test("the worker: probes and scrape annotations on the port WORKER_HTTP_PORT opens, at the paths the worker serves", () => {
    const [deployment, ...others] = only("Deployment");
    expect(others).toEqual([]);
    const pod = podSpecOf(deployment!)!;
    const [worker, ...more] = pod.containers.filter((c) => c.args?.[0] === "worker");
    expect(more).toEqual([]);
    const port = worker!.env?.find((e) => e.name === "WORKER_HTTP_PORT")?.value;
    expect(loadConfig({ WORKER_HTTP_PORT: port }).workerHttpPort).toBeGreaterThan(0);
    const declared = worker!.ports?.find((p) => p.containerPort === Number(port));
    expect(declared).toMatchObject({ name: expect.any(String), protocol: "TCP" });
    const { livenessProbe: live, readinessProbe: ready } = worker!;
    expect(live?.httpGet).toEqual({ path: workerPaths.liveness, port: declared!.name });
    expect(ready?.httpGet).toEqual({ path: workerPaths.readiness, port: declared!.name });
    // /readyz answers within its own bound, so a slow database reads as "not ready", never as a probe timeout.
    expect(ready!.timeoutSeconds! * 1000).toBeGreaterThan(readinessTimeoutMs);
    // Liveness never restarts a worker for a database outage alone, and tolerates a long pass's busy moments.
    expect(live!.failureThreshold! * live!.periodSeconds!).toBeGreaterThanOrEqual(60);
    expect(deployment!.object.spec.template.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": port,
      "prometheus.io/path": workerPaths.metrics,
    });
    // The CronJob's and the migrate Job's pods serve nothing: no port, no probes.
    for (const { manifest, container } of containers.filter(({ container }) => container !== worker)) {
      expect({
        where: label(manifest, container.name),
        ports: container.ports,
        live: container.livenessProbe,
        ready: container.readinessProbe,
      }).toEqual({ where: label(manifest, container.name), ports: undefined, live: undefined, ready: undefined });
    }
  });

  test("every pod: 30 s grace period, no service-account token, non-root uid of the image, seccomp RuntimeDefault", () => {
    expect(pods.length).toBeGreaterThanOrEqual(3);
    for (const { manifest, pod } of pods) {
      expect({ where: label(manifest), grace: pod.terminationGracePeriodSeconds, token: pod.automountServiceAccountToken }).toEqual({
        where: label(manifest),
        grace: 30,
        token: false,
      });
      expect({ where: label(manifest), ...pod.securityContext }).toMatchObject({
        where: label(manifest),
        runAsNonRoot: true,
        runAsUser: imageUid,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect([pod.hostNetwork, pod.hostPID, pod.hostIPC].filter(Boolean)).toEqual([]);
    }
  });

  test("every container: locked-down security context, read-only root with an emptyDir /tmp, requests and limits", () => {
    expect(containers.length).toBeGreaterThanOrEqual(5);
    for (const { manifest, pod, container } of containers) {
      const where = label(manifest, container.name);
      const security = { ...pod.securityContext, ...container.securityContext };
      expect({ where, ...security }).toMatchObject({
        where,
        runAsNonRoot: true,
        runAsUser: imageUid,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      });
      expect({ where, drop: container.securityContext?.capabilities?.drop, add: container.securityContext?.capabilities?.add }).toEqual({
        where,
        drop: ["ALL"],
        add: undefined,
      });
      expect(container.securityContext?.privileged).not.toBe(true);

      const tmp = container.volumeMounts?.find((m) => m.mountPath === "/tmp");
      expect({ where, tmp: pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir !== undefined }).toEqual({ where, tmp: true });

      const { requests, limits } = container.resources ?? {};
      expect({
        where,
        cpu: requests?.cpu !== undefined,
        memory: requests?.memory !== undefined,
        cpuLimit: limits?.cpu !== undefined,
      }).toEqual({ where, cpu: true, memory: true, cpuLimit: true });
      const limit = bytes(limits!.memory!);
      expect(limit).toBeGreaterThanOrEqual(bytes("128Mi"));
      expect(limit).toBeLessThanOrEqual(bytes("512Mi"));
      expect(bytes(requests!.memory!)).toBeLessThanOrEqual(limit);
      // V8's heap is capped well under the limit, so Node collects garbage before the kernel OOM-kills.
      const heap = /--max-old-space-size=(\d+)/.exec(container.env?.find((e) => e.name === "NODE_OPTIONS")?.value ?? "");
      expect({ where, heapCapped: heap !== null }).toEqual({ where, heapCapped: true });
      expect(Number(heap![1]) * 1024 ** 2).toBeLessThanOrEqual(limit - bytes("64Mi"));
      // A small young generation: without it V8 lets a backfill's garbage grow RSS toward the limit.
      const young = /--max-semi-space-size=(\d+)/.exec(container.env?.find((e) => e.name === "NODE_OPTIONS")?.value ?? "");
      expect({ where, young: young !== null && Number(young[1]) <= 8 }).toEqual({ where, young: true });
    }
  });

  test("images are pinned to this package's version and the entrypoint is the image's own", () => {
    for (const { manifest, container } of containers) {
      expect({ where: label(manifest, container.name), image: container.image, command: container.command }).toEqual({
        where: label(manifest, container.name),
        image: `ghcr.io/example/generect-sync:${version}`,
        command: undefined,
      });
    }
    for (const k of kustomizations.filter((k) => k.object.images)) {
      for (const image of k.object.images)
        expect({ file: k.file, tag: image.newTag ?? image.digest }).toEqual({ file: k.file, tag: image.digest ?? version });
    }
  });

  test("container args are commands the CLI has (`generect-sync <command> --help` exits 0)", async () => {
    const commands = [...new Set(containers.map(({ container }) => container.args?.[0]))];
    expect(commands).toEqual(expect.arrayContaining(["migrate", "run"]));
    for (const command of commands) {
      expect(command).toBeDefined();
      const result = await runCli([command!, "--help"], {});
      expect({ command, code: result.code, stdout: result.stdout }).toEqual({
        command,
        code: 0,
        stdout: expect.stringContaining(`generect-sync ${command}`),
      });
    }
  }, 60_000);

  test("secrets reach containers only by reference, to keys the Secret has", () => {
    const secret = only("Secret");
    expect(secret.map((s) => s.file)).toEqual([exampleSecretFile]);
    const secretKeys = new Set(Object.keys({ ...secret[0]!.object.stringData, ...secret[0]!.object.data }));
    const configMaps = new Set(only("ConfigMap").map((m) => m.name));
    for (const { manifest, container } of containers) {
      const where = label(manifest, container.name);
      for (const variable of container.env ?? []) {
        if (secretName.test(variable.name)) {
          expect({ where, name: variable.name, value: variable.value, ref: variable.valueFrom?.secretKeyRef?.name }).toEqual({
            where,
            name: variable.name,
            value: undefined,
            ref: secret[0]!.name,
          });
          expect(secretKeys.has(variable.valueFrom!.secretKeyRef!.key)).toBe(true);
        }
        if (variable.valueFrom?.configMapKeyRef) expect(configMaps.has(variable.valueFrom.configMapKeyRef.name!)).toBe(true);
      }
      for (const source of container.envFrom ?? []) {
        if (source.configMapRef)
          expect({ where, configMap: configMaps.has(source.configMapRef.name!) }).toEqual({ where, configMap: true });
        else expect({ where, secretRef: source.secretRef?.name }).toEqual({ where, secretRef: secret[0]!.name });
      }
    }
    // `run` needs both the token and the database; `migrate` needs the database; `run --all` the
    // database and every account's token, which it reads from the whole Secret (envFrom).
    for (const { container } of containers) {
      const names = (container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name);
      const fleet = container.args?.includes("--all") === true;
      expect(names).toEqual(
        expect.arrayContaining(container.args?.[0] === "migrate" || fleet ? ["DATABASE_URL"] : ["GENERECT_API_TOKEN", "DATABASE_URL"]),
      );
      if (fleet) expect(container.envFrom?.map((source) => source.secretRef?.name).filter(Boolean)).toEqual([secret[0]!.name]);
    }
  });

  test("no credentials are written anywhere but in the example Secret, whose values are placeholders", () => {
    for (const manifest of all.filter((m) => m.file !== exampleSecretFile)) {
      expect({ file: manifest.file, found: strings(manifest.object).filter((s) => credentialUrl.test(s)) }).toEqual({
        file: manifest.file,
        found: [],
      });
      if (manifest.kind === "ConfigMap") expect(Object.keys(manifest.object.data ?? {}).filter((key) => secretName.test(key))).toEqual([]);
    }
    const example = only("Secret")[0]!.object;
    for (const value of Object.values<string>({ ...example.stringData, ...example.data })) expect(value).toMatch(/REPLACE-ME/);
    expect(readFileSync(path.join(dir, exampleSecretFile), "utf8")).toMatch(/do not commit/i);
  });

  test("the ConfigMap's settings pass the CLI's own validation, in UTC", () => {
    const [configMap, ...others] = only("ConfigMap");
    expect(others.map((m) => m.name)).toEqual(["generect-sync-accounts"]);
    const data = configMap!.object.data as Record<string, string>;
    expect(data).toMatchObject({
      SYNC_TIMEZONE: "UTC",
      SYNC_ACCOUNT: expect.any(String),
      SYNC_LOOKBACK: expect.any(String),
      SYNC_WINDOW: expect.any(String),
      SYNC_CONCURRENCY: expect.any(String),
    });
    expect(() => loadConfig(data)).not.toThrow();
  });
});

describe("jobs/kubernetes/fleet: the fleet as an Indexed Job", () => {
  const fleet = only("CronJob").filter((m) => m.file.startsWith("fleet/"));
  const job = () => fleet[0]!.object.spec.jobTemplate.spec;
  const sync = () => containersOf(job().template.spec).find((c) => c.name === "sync")!;
  const envOf = (name: string) => sync().env?.find((e) => e.name === name)?.value;

  test("one CronJob whose Job is Indexed: completions = parallelism = SYNC_SHARDS, a retry budget per index, exit 2 fails its index", () => {
    expect(fleet.map((m) => m.file)).toEqual(["fleet/cronjob.yaml"]);
    expect(fleet[0]!.object.spec.concurrencyPolicy).toBe("Forbid");
    const spec = job();
    expect(spec.completionMode).toBe("Indexed");
    expect(spec.completions).toBeGreaterThanOrEqual(2);
    expect(spec.parallelism).toBe(spec.completions);
    expect(envOf("SYNC_SHARDS")).toBe(String(spec.completions));
    expect(spec.backoffLimitPerIndex).toBeGreaterThanOrEqual(0);
    // backoffLimit would count the failures of all indexes together: one bad shard would stop the others.
    expect(spec.backoffLimit).toBeUndefined();
    expect(spec.podFailurePolicy.rules.find((r: { action: string }) => r.action === "FailIndex")?.onExitCodes).toEqual({
      operator: "In",
      values: [2],
    });
    expect(sync().args).toEqual(["run", "--all"]);
    expect(() => loadConfig({ SYNC_CONCURRENCY: envOf("SYNC_CONCURRENCY") })).not.toThrow();
  });

  test("the accounts file is mounted from its ConfigMap where SYNC_ACCOUNTS_FILE points, and passes the CLI's own validation", () => {
    const file = envOf("SYNC_ACCOUNTS_FILE")!;
    const mount = sync().volumeMounts!.find((m) => file.startsWith(`${m.mountPath}/`))!;
    expect(mount.readOnly).toBe(true);
    const volume = job().template.spec.volumes.find((v: { name: string }) => v.name === mount.name);
    const configMap = only("ConfigMap").find((m) => m.name === volume.configMap.name)!;
    const text = configMap.object.data[path.posix.basename(file)] as string;
    const tmp = mkdtempSync(path.join(tmpdir(), "accounts-"));
    writeFileSync(path.join(tmp, "accounts.yaml"), text);
    const accounts = loadAccounts(path.join(tmp, "accounts.yaml"), {});
    rmSync(tmp, { recursive: true, force: true });
    expect(accounts.length).toBeGreaterThanOrEqual(2);
    // No token in the file or the ConfigMap: each entry names a variable of the Secret.
    expect(strings(configMap.object).filter((s) => credentialUrl.test(s))).toEqual([]);
    expect(accounts.every((a) => a.tokenError?.code === "TOKEN_MISSING" && a.tokenError.message.includes("is not set"))).toBe(true);
    expect(() => readDbConnections({ SYNC_DB_CONNECTIONS: envOf("SYNC_DB_CONNECTIONS") })).not.toThrow();
  });
});

const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0;

// `kubectl kustomize` renders offline; skipped where kubectl is not installed.
(kubectl ? describe : describe.skip)("kubectl kustomize", () => {
  const render = (sub: string) =>
    parseDocuments(execFileSync("kubectl", ["kustomize", path.join(dir, sub)], { encoding: "utf8" }), `kustomize ${sub || "."}`);

  test("jobs/kubernetes renders the ConfigMap and the CronJob, valid, with the pinned image", async () => {
    const rendered = render("");
    expect(rendered.map((m) => `${m.kind}/${m.name}`).sort()).toEqual(["ConfigMap/generect-sync-config", "CronJob/generect-sync"]);
    for (const manifest of rendered) await validateManifest(manifest);
    expect(rendered.flatMap((m) => (podSpecOf(m) ? containersOf(podSpecOf(m) as IPodSpec).map((c) => c.image) : []))).toEqual(
      Array(2).fill(`ghcr.io/example/generect-sync:${version}`),
    );
  });

  test("jobs/kubernetes/fleet renders the ConfigMaps and the fleet CronJob, valid", async () => {
    const rendered = render("fleet");
    expect(rendered.map((m) => `${m.kind}/${m.name}`).sort()).toEqual([
      "ConfigMap/generect-sync-accounts",
      "ConfigMap/generect-sync-config",
      "CronJob/generect-sync-fleet",
    ]);
    for (const manifest of rendered) await validateManifest(manifest);
  });

  test("jobs/kubernetes/worker renders the ConfigMap and the worker Deployment, without the CronJob", async () => {
    const rendered = render("worker");
    expect(rendered.map((m) => `${m.kind}/${m.name}`).sort()).toEqual([
      "ConfigMap/generect-sync-config",
      "Deployment/generect-sync-worker",
    ]);
    for (const manifest of rendered) await validateManifest(manifest);
  });
});
