// next/previous links exactly as the real API builds them (Django REST framework's
// LimitOffsetPagination): same query with limit set and offset moved, parameters sorted by name and
// encoded like Python's urlencode. Like the real API they point at http://localhost:8000, a bug the
// sync must survive by computing offsets itself instead of following links.

export const LINK_ORIGIN = "http://localhost:8000";

// Python's quote_plus leaves only letters, digits and _.-~ unescaped; encodeURIComponent also
// leaves !'()* alone, so those are escaped on top.
function quotePlus(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

function withParams(pathname: string, query: URLSearchParams, set: Record<string, string>, drop: string[]): string {
  const groups = new Map<string, string[]>();
  for (const [k, v] of query) {
    if (drop.includes(k) || k in set) continue;
    groups.set(k, [...(groups.get(k) ?? []), v]);
  }
  for (const [k, v] of Object.entries(set)) groups.set(k, [v]);
  const keys = [...groups.keys()].sort();
  const qs = keys.flatMap((k) => groups.get(k)!.map((v) => `${quotePlus(k)}=${quotePlus(v)}`)).join("&");
  return `${LINK_ORIGIN}${pathname}${qs ? `?${qs}` : ""}`;
}

export function pageLinks(
  pathname: string,
  query: URLSearchParams,
  page: { offset: number; limit: number; count: number },
): { next: string | null; previous: string | null } {
  const { offset, limit, count } = page;
  const next = offset + limit >= count ? null : withParams(pathname, query, { limit: String(limit), offset: String(offset + limit) }, []);
  let previous: string | null = null;
  if (offset > 0) {
    previous =
      offset - limit <= 0
        ? withParams(pathname, query, { limit: String(limit) }, ["offset"])
        : withParams(pathname, query, { limit: String(limit), offset: String(offset - limit) }, []);
  }
  return { next, previous };
}
