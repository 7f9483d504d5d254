import { describe, expect, test } from "@jest/globals";
import { RequestSlots } from "../../src/api/request-slots.js";

/** A request that runs until `finish` is called; `started` tells when it got its slot. */
function gated(order: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const attempt = async () => {
    order.push(name);
    await done;
    return name;
  };
  return { attempt, finish };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("a fleet's request slots", () => {
  test("never more exchanges in flight than the slots, whatever the lanes hold", async () => {
    const slots = new RequestSlots(3);
    const lanes = [slots.lane(), slots.lane(), slots.lane()];
    lanes[0]!.holding(true);
    let inFlight = 0;
    let most = 0;
    const work = Array.from({ length: 40 }, (_, i) =>
      lanes[i % 3]!.slot(async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1 + (i % 4)));
        inFlight -= 1;
        return i;
      }),
    );
    expect(await Promise.all(work)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(most).toBe(3);
    expect(slots.pending).toBe(0);
  });

  test("a request of an account holding a window's connection goes ahead of those queued before it by accounts holding none", async () => {
    const slots = new RequestSlots(1);
    const [window, other] = [slots.lane(), slots.lane()];
    const order: string[] = [];
    const busy = gated(order, "busy");
    const b1 = gated(order, "other-1");
    const b2 = gated(order, "other-2");
    const a1 = gated(order, "window-1");
    const all = [other.slot(busy.attempt), other.slot(b1.attempt), other.slot(b2.attempt), window.slot(a1.attempt)];
    await settle();
    // Queued before its transaction began (a page fetched ahead): it moves up once the connection is held.
    window.holding(true);
    busy.finish();
    await settle();
    expect(order).toEqual(["busy", "window-1"]);
    a1.finish();
    await settle();
    expect(order).toEqual(["busy", "window-1", "other-1"]);
    b1.finish();
    b2.finish();
    await Promise.all(all);
    expect(order).toEqual(["busy", "window-1", "other-1", "other-2"]);
  });

  test("among windows holding a connection, the one that took it first goes first: it is the closest to giving it back", async () => {
    const slots = new RequestSlots(1);
    const [early, late] = [slots.lane(), slots.lane()];
    const order: string[] = [];
    const busy = gated(order, "busy");
    const gates = [gated(order, "late-1"), gated(order, "early-1"), gated(order, "late-2")];
    early.holding(true);
    late.holding(true);
    const all = [late.slot(busy.attempt), late.slot(gates[0]!.attempt), early.slot(gates[1]!.attempt), late.slot(gates[2]!.attempt)];
    busy.finish();
    for (const gate of gates) {
      await settle();
      gate.finish();
    }
    await Promise.all(all);
    expect(order).toEqual(["busy", "early-1", "late-1", "late-2"]);
    // Given back and taken again, its turn is a new one.
    early.holding(false);
    early.holding(true);
    const again = gated(order, "late-3");
    const last = [late.slot(busy.attempt), early.slot(gated(order, "early-2").attempt), late.slot(again.attempt)];
    await settle();
    again.finish();
    await Promise.all([last[0], last[2]]);
    expect(order.slice(4, 6)).toEqual(["busy", "late-3"]);
  });

  test("among accounts alike, first come first served; a connection given back loses its turn", async () => {
    const slots = new RequestSlots(1);
    const [a, b] = [slots.lane(), slots.lane()];
    const order: string[] = [];
    const busy = gated(order, "busy");
    const gates = [gated(order, "a-1"), gated(order, "b-1"), gated(order, "a-2")];
    a.holding(true);
    const all = [b.slot(busy.attempt), a.slot(gates[0]!.attempt), b.slot(gates[1]!.attempt), a.slot(gates[2]!.attempt)];
    await settle();
    a.holding(false);
    busy.finish();
    for (const gate of gates) {
      await settle();
      gate.finish();
    }
    await Promise.all(all);
    expect(order).toEqual(["busy", "a-1", "b-1", "a-2"]);
  });

  test("a failed exchange gives its slot back", async () => {
    const slots = new RequestSlots(1);
    const lane = slots.lane();
    await expect(lane.slot(async () => Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    await expect(lane.slot(async () => "next")).resolves.toBe("next");
  });
});

describe("a fleet's request slots' usage", () => {
  test("busy and idle shares, waits and holds follow the clock: two slots, three requests", async () => {
    let now = 1_000;
    const slots = new RequestSlots(2, { now: () => now });
    const lane = slots.lane();
    const order: string[] = [];
    expect(slots.usage()).toEqual({ slots: 2, requests: 0, busyShare: 0, idleShare: 0, meanWaitMs: 0, meanHoldMs: 0 });
    // t=0: a and b take both slots, c waits; t=10: a ends, c takes its slot; t=30: b ends; t=40: c ends.
    const [a, b, c] = [gated(order, "a"), gated(order, "b"), gated(order, "c")];
    const all = [lane.slot(a.attempt), lane.slot(b.attempt), lane.slot(c.attempt)];
    await settle();
    expect(order).toEqual(["a", "b"]);
    now += 10;
    a.finish();
    await settle();
    expect(order).toEqual(["a", "b", "c"]);
    now += 20;
    b.finish();
    await settle();
    now += 10;
    c.finish();
    await Promise.all(all);
    // Over 40 ms of 2 slots (80 slot-ms): held 10 + 30 + 30 = 70; free with nothing queued 10 (one slot, t=30..40).
    expect(slots.usage()).toEqual({
      slots: 2,
      requests: 3,
      busyShare: 70 / 80,
      idleShare: 10 / 80,
      meanWaitMs: 10 / 3,
      meanHoldMs: 70 / 3,
    });
  });

  test("time with nothing in flight counts as idle, and a request that found its slot free waited 0 ms", async () => {
    let now = 0;
    const slots = new RequestSlots(1, { now: () => now });
    const lane = slots.lane();
    const order: string[] = [];
    const first = gated(order, "first");
    const done = lane.slot(first.attempt);
    await settle();
    now += 5;
    first.finish();
    await done;
    now += 5; // nothing in flight, nothing queued: idle
    const second = gated(order, "second");
    const next = lane.slot(second.attempt);
    await settle();
    now += 5;
    second.finish();
    await next;
    expect(slots.usage()).toMatchObject({ requests: 2, busyShare: 10 / 15, idleShare: 5 / 15, meanWaitMs: 0, meanHoldMs: 5 });
  });
});
