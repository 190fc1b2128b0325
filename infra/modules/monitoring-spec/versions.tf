# No provider: the module only computes the signals, so `npm test` can evaluate it offline and check
# every filter against the metric catalogue (infra/model/metrics.json).
terraform {
  required_version = ">= 1.11.0"
}
