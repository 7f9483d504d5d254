import type { SpentCredits } from "../api/schema.js";
import { ApiResponseError } from "../errors.js";
import { dayBucketKey } from "./days.js";

export interface DayValue {
  day: string;
  endpoint: string;
  credits: string;
}

/**
 * Turns a period=day answer into (day, endpoint, credits) rows. Each bucket key must be the start
 * of a local day inside the requested range; anything else means the server answered another
 * question (another timezone or period) and must not be stored as if it had not.
 */
export function dayValues(answer: SpentCredits, request: { timezone: string; startDate: string; endDate: string }): DayValue[] {
  const values: DayValue[] = [];
  for (const [key, labels] of answer.buckets) {
    const day = key.slice(0, 10);
    const valid =
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(key) &&
      day >= request.startDate &&
      day <= request.endDate &&
      dayBucketKey(day, request.timezone) === key;
    if (!valid) {
      throw new ApiResponseError(
        `spent_credits answered bucket "${key}", which is not the start of a day in ${request.timezone} between ${request.startDate} and ${request.endDate}`,
      );
    }
    for (const [endpoint, credits] of labels) values.push({ day, endpoint, credits });
  }
  return values;
}
