import type { SystemNames } from '../../scripts/infra-signals.ts';

/**
 * Systems as the system module reports them (`module.system[*].monitoring`), for evaluating
 * infra/modules/monitoring-spec. The partner's names do not start with its key, so a filter that
 * rebuilt a name from the key would name something the deployment does not have.
 */
export const MONITORED: Record<string, SystemNames> = {
  ducto: {
    api_service: 'ducto-api',
    ingest_service: 'ducto-ingest',
    gateway_id: 'ducto-gw',
    datasets: ['flights'],
    subscriptions: ['ducto-flights-ingest'],
  },
  partner: {
    api_service: 'partner-api-x1',
    ingest_service: 'partner-ingest-x1',
    gateway_id: 'partner-gw-x1',
    datasets: ['a', 'b'],
    subscriptions: ['partner-a-ingest', 'partner-b-ingest'],
  },
};
