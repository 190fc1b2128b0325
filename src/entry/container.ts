/**
 * The container's entry point (see Dockerfile): `node dist/entry/container.js api|ingest`.
 */
import { runRole } from '../role.ts';

const stop = await runRole(process.argv.slice(2), process.env);
let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (++signals > 1) process.exit(130);
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
