# Builds the Swagger 2.0 document API Gateway serves from the parts src/core/derive/swagger2.ts
# generates (infra/gateway/, `npm run infra:gateway`): the base document and one file of paths per
# dataset. It adds what only the deployment knows: the backend address, the title and the quota.

locals {
  base   = jsondecode(var.base_document)
  paths  = merge(local.base.paths, [for p in var.dataset_paths : jsondecode(p)]...)
  metric = "read-requests"

  # Routes declaring `security: []` (health, the OpenAPI document) take no API key, so there is no
  # consumer project to charge; every other route costs one request of the consumer's quota.
  quota = { "x-google-quota" = { metricCosts = { (local.metric) = 1 } } }
  paths_with_quota = {
    for path, operations in local.paths : path => {
      for verb, op in operations : verb => merge(op, {
        for k, v in local.quota : k => v if length(try(op.security, [true])) > 0
      })
    }
  }

  document = merge(local.base, {
    info               = merge(local.base.info, { title = var.title })
    paths              = local.paths_with_quota
    "x-google-backend" = merge(local.base["x-google-backend"], { address = var.backend_url })
    "x-google-management" = {
      metrics = [{
        name        = local.metric
        displayName = "Read requests"
        valueType   = "INT64"
        metricKind  = "DELTA"
      }]
      quota = {
        limits = [{
          name   = "${local.metric}-per-minute"
          metric = local.metric
          unit   = "1/min/{project}"
          values = { STANDARD = var.quota_requests_per_minute }
        }]
      }
    }
  })
}
