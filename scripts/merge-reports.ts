// Merge the claims reports of several CI jobs (one per Kubernetes version) into one table.
//   usage: npx tsx scripts/merge-reports.ts OUT_DIR REPORT.json...
import { readFileSync } from 'node:fs';
import { type ClaimsReport, mergeReports, summaryLine, writeReports } from '../helpers/report/report.js';

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0) {
  process.stderr.write('usage: npx tsx scripts/merge-reports.ts OUT_DIR REPORT.json...\n');
  process.exit(2);
}
const read = (f: string): ClaimsReport => {
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as ClaimsReport;
  } catch (err) {
    process.stderr.write(`merge-reports: ${f} cannot be read as a claims report (${(err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0]})\n`);
    process.exit(2);
  }
};
const merged = mergeReports(inputs.map(read));
writeReports(merged, out);
for (const v of merged.versions) console.log(summaryLine(merged, v));
