// --cpu-profile FILE: a V8 CPU profile of one phase only (the sync backfill), through the inspector,
// so the profile is not diluted by seeding, the ceilings or the naive baseline. Open it in Chrome
// DevTools (Performance panel) or summarise it with summarizeProfile().
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";

export async function profiled<T>(file: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!file) return work();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 500 }); // µs
  await session.post("Profiler.start");
  try {
    return await work();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    await writeFile(file, JSON.stringify(profile));
  }
}

export interface ProfileEntry {
  functionName: string;
  url: string;
  line: number;
  selfMs: number;
  selfPercent: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per function (summed over call sites), highest first. */
export function summarizeProfile(profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }, top = 25): ProfileEntry[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, { entry: Omit<ProfileEntry, "selfMs" | "selfPercent">; us: number }>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byNode.get(id)!;
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName}@${url}:${lineNumber}`;
    const slot = selfUs.get(key) ?? { entry: { functionName: functionName || "(anonymous)", url, line: lineNumber + 1 }, us: 0 };
    slot.us += delta;
    selfUs.set(key, slot);
  });
  return [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map(({ entry, us }) => ({ ...entry, selfMs: Math.round(us / 100) / 10, selfPercent: Math.round((us / total) * 1000) / 10 }));
}
