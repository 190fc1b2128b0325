/** The report of a run as text. */

import { fmt, table } from '../report.ts';
import type { WorkloadReport } from './types.ts';

// ---------------------------------------------------------------------------------------------
// Text report

export function formatReport(r: WorkloadReport): string {
  const out: string[] = [];
  if (r.probe) {
    out.push(`Probe: publish rate in steps with ${r.options.consumers} consumers running`);
    out.push(
      table(
        [
          'rate/s',
          'acked/s',
          'publish p99 ms',
          'consumer ops/s',
          'publish errors',
          'consumer errors',
          'sustained',
        ],
        r.probe.steps.map((s) => [
          `${s.rate}${s.repeat ? ' (again)' : ''}`,
          s.ackedPerS,
          s.publishP99Ms,
          s.consumerOpsPerS,
          s.publishErrors,
          s.consumerErrors,
          s.sustained ? 'yes' : `no: ${s.why}`,
        ]),
      ),
    );
    out.push(
      `max sustained rate: ${fmt(r.probe.maxRate)} msgs/s; soak rate: ${
        r.probe.soakRate === null ? 'none' : `${fmt(r.probe.soakRate)} msgs/s`
      }\n`,
    );
  }
  if (r.soak) {
    const s = r.soak;
    const p = s.publish;
    out.push(
      `Soak: ${fmt(s.targetRate)} msgs/s for ${fmt(s.durationS)} s, ${r.options.consumers} consumers` +
        ` (server ${s.serverCores === null ? '?' : fmt(s.serverCores)} cores, load generator ${fmt(s.clientCores)} cores)`,
    );
    const errorText = (by: Record<string, number>) =>
      Object.entries(by)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ') || '0';
    out.push(
      table(
        ['operation', 'count', 'per s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors'],
        [
          [
            'publish (POST)',
            p.latency.count,
            p.latency.perS,
            p.latency.p50Ms,
            p.latency.p95Ms,
            p.latency.p99Ms,
            p.latency.maxMs,
            errorText(p.latency.errorsBy),
          ],
          ...Object.entries(s.operations).map(([name, o]) => [
            name,
            o.count,
            o.perS,
            o.p50Ms,
            o.p95Ms,
            o.p99Ms,
            o.maxMs,
            errorText(o.errorsBy),
          ]),
        ],
      ),
    );
    out.push(
      `publish: scheduled ${p.scheduled}, sent ${p.sent}, acked (2xx) ${p.acked} (${fmt(p.ackedPerS)}/s), ` +
        `429 ${p.status429}, 5xx ${p.status5xx}, transport errors ${p.transportErrors}, ` +
        `never acked ${p.failed}, behind schedule ${p.unsent}`,
    );
  }
  if (r.exactlyOnce)
    out.push(
      `exactly once: ${r.exactlyOnce.stored} rows stored, ${r.exactlyOnce.acked} acknowledged ` +
        `${r.exactlyOnce.equal ? '(equal)' : '(DIFFERENT)'}`,
    );
  if (r.memory) {
    const m = r.memory;
    out.push(
      `server RSS (${m.samples} samples): first minute median ${fmt(m.firstMinuteMedianMb)} MB, ` +
        `last minute median ${fmt(m.lastMinuteMedianMb)} MB, max ${fmt(m.maxMb)} MB, ` +
        `slope over the second half ${m.slopeMbPerMin === null ? '?' : fmt(m.slopeMbPerMin)} MB/min`,
    );
  }
  out.push(
    `load average ${r.machine.loadavgStart.join(' ')} → ${r.machine.loadavgEnd.join(' ')} on ${r.machine.cpus} CPUs`,
  );
  out.push(r.ok ? 'OK' : `FAILED:\n${r.failures.map((f) => `  - ${f}`).join('\n')}`);
  return out.join('\n');
}
