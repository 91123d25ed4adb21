// Per-spec result rows land in reports/checks/*.json; the global teardown merges them.
import path from 'node:path';

export const fragmentsDir = () => path.join(process.env.KNC_REPORT_DIR || 'reports', 'checks');
