/** A window counting more rows than this is halved before anything is written, so one transaction stays bounded. */
export const defaultMaxRowsPerWindow = 50_000;

/** The highest SYNC_WINDOW_ROWS: half the split threshold, so a window sized on its predecessor's density is rarely halved. */
export const maxTargetRows = defaultMaxRowsPerWindow / 2;
