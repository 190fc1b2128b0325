import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createBigQueryStore } from '../src/adapters/bigquery/store.ts';
import { readConfig } from '../src/config.ts';
import { createScratchDataset } from '../support/bigquery-scratch.ts';
import { describeWarehouseContract } from './contract/warehouse-contract.ts';

// Real BigQuery only with a project and Application Default Credentials; anywhere else, a printed skip.
const adc = join(homedir(), '.config', 'gcloud', 'application_default_credentials.json');
const skip = !process.env.DUCTO_BQ_PROJECT
  ? 'DUCTO_BQ_PROJECT is not set'
  : !process.env.GOOGLE_APPLICATION_CREDENTIALS && !existsSync(adc)
    ? 'no Google credentials (set GOOGLE_APPLICATION_CREDENTIALS or run gcloud auth application-default login)'
    : null;

describeWarehouseContract(
  'bigquery',
  async () => {
    const [{ BigQuery }, { managedwriter }] = await Promise.all([
      import('@google-cloud/bigquery'),
      import('@google-cloud/bigquery-storage'),
    ]);
    const bq = readConfig({ ...process.env, DUCTO_WAREHOUSE: 'bigquery' }).warehouse;
    if (bq.kind !== 'bigquery') throw new Error('a BigQuery configuration was expected');
    const bigquery = new BigQuery({
      projectId: bq.project,
      ...(bq.location ? { location: bq.location } : {}),
    });
    const scratch = await createScratchDataset(bigquery, 'ducto_contract', bq.location);
    const store = createBigQueryStore({
      bigquery,
      writer: new managedwriter.WriterClient({ projectId: bq.project }),
      project: bq.project,
      dataset: scratch.name,
      location: bq.location,
      maximumBytesBilled: bq.maxBytesBilled,
      queryTimeoutMs: 60_000,
      // The suite's events span 1900 to 2015 and are listed without from/to: no window here.
      defaultRangeDays: null,
      maxRangeDays: null,
      freshnessDays: null,
      closeClients: true,
    });
    return { store, cleanup: () => store.close().finally(() => scratch.drop()) };
  },
  { reportsInserted: false, skip },
);
