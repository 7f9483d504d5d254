// Jest runs code inside a node:vm context, where every lookup of a global (Math, Number, Date...)
// goes through an interceptor costing ~100 ns. In loops over a million rows that made seeding 10x
// slower under Jest than under plain Node, so the hot paths use these bindings, resolved once at load.

export const { floor, imul, min, log } = Math;
export const toNumber = Number;
export const toBigInt = BigInt;
export const isNaNNumber = Number.isNaN;
export const dateUTC = Date.UTC;
export const { freeze, keys } = Object;
