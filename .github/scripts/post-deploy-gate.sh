#!/usr/bin/env bash
# The post-deploy gate of deploy-env.yml, for the Terraform root given as $1 (the deployed commit's,
# or after a rollback the previous commit's): reads the system's gateway URL, topic and canary key
# from the Terraform outputs, then runs `npm run test:deployed` (src/canary.ts), which publishes
# canary events and fails unless the API returns exactly them, unchanged, before the deadline.
#
# Environment: SYSTEM, DATASET, and optionally DUCTO_API_KEY (else the system's `canary` key is read
# with the deploy account). Appends api_url and topic to $GITHUB_OUTPUT and the output to
# $RUNNER_TEMP/gate.log (outside the checkout, which Terraform zips as the function source).
set -euo pipefail

root="$1"
scratch="${RUNNER_TEMP:-/tmp}"
systems="${scratch}/systems.json"
log="${scratch}/gate.log"
terraform -chdir="${root}" output -json systems > "${systems}"
DUCTO_API_URL="$(jq -er --arg s "${SYSTEM}" '.[$s].api_url' "${systems}")"
DUCTO_TOPIC="$(jq -er --arg s "${SYSTEM}" --arg d "${DATASET}" '.[$s].topics[$d]' "${systems}")"
export DUCTO_API_URL DUCTO_TOPIC
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  printf 'api_url=%s\ntopic=%s\n' "${DUCTO_API_URL}" "${DUCTO_TOPIC}" >> "${GITHUB_OUTPUT}"
fi

if [ -z "${DUCTO_API_KEY:-}" ]; then
  key_name="$(jq -r --arg s "${SYSTEM}" '.[$s].api_keys.canary // empty' "${systems}")"
  if [ -z "${key_name}" ]; then
    echo "::error::no DUCTO_API_KEY secret and system ${SYSTEM} has no canary key"
    exit 1
  fi
  DUCTO_API_KEY="$(gcloud services api-keys get-key-string "${key_name}" --format='value(keyString)')"
  echo "::add-mask::${DUCTO_API_KEY}"
  export DUCTO_API_KEY
fi

echo "gate: ${DUCTO_API_URL} via ${DUCTO_TOPIC}" | tee -a "${log}"
npm run test:deployed -- --dataset "${DATASET}" --deadline "${GATE_DEADLINE_SECONDS:-300}" 2>&1 | tee -a "${log}"
