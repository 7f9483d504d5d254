import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import type { SimulatorHandle } from "../../src/simulator/index.js";
import { createMigratedDatabase, type TestDatabase } from "../helpers/database.js";
import { expectDatabaseEqualsLedger, seededSimulator, syncOnce } from "../helpers/sync.js";
import { dayMs, days } from "../helpers/time.js";

describe("rows that move while a window is walked", () => {
  let db: TestDatabase;
  let sim: SimulatorHandle;
  const to = new Date(Date.now() - 60_000);
  const from = new Date(to.getTime() - 20 * dayMs);

  beforeAll(async () => {
    db = await createMigratedDatabase("moving");
    sim = await seededSimulator(31, 1200, 20, { to });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  test("rows created inside the window being walked are not lost", async () => {
    let pages = 0;
    // While the single window is walked, rows land inside it: at its newest edge (shifting every
    // later offset by one) and in the middle of the history.
    sim.faults.beforePage = ({ offset, query }) => {
      if (!query.has("created_at__gte")) return; // not the oldest-row lookup
      pages += 1;
      if (offset > 0 && pages <= 6) {
        sim.ledger.add({ created_at: new Date(to.getTime() - 1000 * pages), amount: "-1" });
        sim.ledger.add({ created_at: new Date(from.getTime() + 10 * dayMs + pages), amount: "-0.5" });
      }
    };
    const summary = await syncOnce(db.url, sim, { windowMs: days(30) });
    sim.faults.beforePage = undefined;
    // The 12-page window did not settle on its first walk; being over 10 pages, it was rolled back
    // and walked as two halves instead of whole again.
    expect(summary.windows).toBe(2);
    await expectDatabaseEqualsLedger(db.url, sim);
  });

  test("a row deleted mid-walk does not hide the row it shifted", async () => {
    let deleted = false;
    const victim = sim.ledger.all()[20]!;
    sim.faults.beforePage = ({ offset }) => {
      if (offset === 100 && !deleted) {
        deleted = true;
        sim.ledger.remove(victim.id);
      }
    };
    await syncOnce(db.url, sim, { lookbackMs: days(30) });
    sim.faults.beforePage = undefined;
    await expectDatabaseEqualsLedger(db.url, sim);
  });

  test("a window whose count never settles fails, and the next run converges", async () => {
    sim.faults.beforePage = ({ offset }) => {
      if (offset > 0) sim.ledger.add({ created_at: new Date(to.getTime() - 5000), amount: "-1" });
    };
    await expect(syncOnce(db.url, sim, { lookbackMs: days(30) })).rejects.toThrow(/did not settle after 3 walks/);
    sim.faults.beforePage = undefined;
    await syncOnce(db.url, sim, { lookbackMs: days(30) });
    await expectDatabaseEqualsLedger(db.url, sim);
  });
});
