# One ducto system: its datasets' buses, its warehouse, the ingest and api services (Cloud Run
# functions, or the container image on Cloud Run) and the front door. The env roots instantiate it
# once per system; every name starts with the system's name so systems never collide.

locals {
  bq_dataset_id = replace(var.name, "-", "_")
  dataset_names = sort(keys(var.datasets))
  functions     = var.compute == "functions"
  labels        = merge(var.labels, { system = var.name, env = var.env })

  ingest_url     = one(concat(module.ingest_function[*].uri, module.ingest_service[*].uri))
  ingest_member  = one(concat(module.ingest_function[*].service_account_member, module.ingest_service[*].service_account_member))
  ingest_service = one(concat(module.ingest_function[*].service_name, module.ingest_service[*].service_name))
  api_url        = one(concat(module.api_function[*].uri, module.api_service[*].uri))
  api_member     = one(concat(module.api_function[*].service_account_member, module.api_service[*].service_account_member))
  api_service    = one(concat(module.api_function[*].service_name, module.api_service[*].service_name))

  # What src/config.ts needs to run on BigQuery with this system's datasets.
  environment = {
    DUCTO_WAREHOUSE       = "bigquery"
    DUCTO_BQ_PROJECT      = var.project_id
    DUCTO_BQ_DATASET      = local.bq_dataset_id
    DUCTO_BQ_LOCATION     = var.bigquery_location
    DUCTO_DATASETS        = join(",", local.dataset_names)
    DUCTO_DEFAULT_DATASET = local.dataset_names[0]
  }
  api_secrets = {
    DUCTO_CURSOR_SECRET = {
      secret  = google_secret_manager_secret.cursor.secret_id
      version = google_secret_manager_secret_version.cursor.version
    }
  }
}

module "warehouse" {
  source              = "../bigquery-dataset"
  project_id          = var.project_id
  dataset_id          = local.bq_dataset_id
  location            = var.bigquery_location
  description         = "ducto system ${var.name} (${var.env}): events, rejected messages and their deduplicated views."
  deletion_protection = var.deletion_protection
  labels              = merge(local.labels, { component = "warehouse" })
  tables              = merge([for d in values(var.datasets) : d.tables]...)
  views = merge([
    for d in values(var.datasets) : {
      for id, v in d.views : id => {
        description = v.description
        query       = replace(replace(v.query, "$${project}", var.project_id), "$${dataset}", local.bq_dataset_id)
      }
    }
  ]...)
  iam = {
    "roles/bigquery.dataEditor" = [local.ingest_member]
    "roles/bigquery.dataViewer" = [local.api_member]
  }
}

# Queries run as BigQuery jobs, which only exist at project level; the data stays dataset-level.
resource "google_project_iam_member" "api_job_user" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = local.api_member
}

# --- bus ---------------------------------------------------------------------------------------

# The identity Pub/Sub signs push requests as; the only invoker of the ingest service.
resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = "${var.name}-push"
  display_name = "Pub/Sub push identity of ducto system ${var.name}"
}

# Pub/Sub's service agent mints the push OIDC tokens (projects created before April 2021 lack
# this grant by default).
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = var.pubsub_service_agent
}

module "bus" {
  source        = "../pubsub-dataset"
  for_each      = var.datasets
  project_id    = var.project_id
  name          = "${var.name}-${each.key}"
  avro_schema   = each.value.avro_schema
  labels        = merge(local.labels, { component = "bus" })
  service_agent = var.pubsub_service_agent
  # Events stay in the system's region at rest, as in BigQuery.
  storage_regions = [var.region]
  push = {
    # The functions framework turns a push envelope into a CloudEvent and takes the topic from the
    # path; the container's ingest endpoint takes the dataset from the query.
    url                   = local.ingest_url
    query                 = local.functions ? null : "dataset=${each.key}"
    audience              = local.ingest_url
    service_account_email = google_service_account.push.email
  }
}

# --- compute: Cloud Run functions (default) or the container image on Cloud Run ----------------

module "ingest_function" {
  source                = "../function"
  count                 = local.functions ? 1 : 0
  project_id            = var.project_id
  region                = var.region
  name                  = "${var.name}-ingest"
  description           = "ducto ingest of system ${var.name}: Pub/Sub push to BigQuery."
  entry_point           = "ingest"
  runtime               = var.runtime
  source_archive        = var.source_archive
  build_service_account = var.build_service_account
  docker_repository     = var.docker_repository
  ingress_settings      = "ALLOW_INTERNAL_ONLY"
  invokers              = [google_service_account.push.member]
  environment_variables = merge(local.environment, var.ingest.environment_variables)
  min_instances         = var.ingest.min_instances
  max_instances         = var.ingest.max_instances
  concurrency           = var.ingest.concurrency
  memory                = var.ingest.memory
  cpu                   = var.ingest.cpu
  timeout_seconds       = var.ingest.timeout_seconds
  labels                = merge(local.labels, { component = "ingest" })
}

module "api_function" {
  source                = "../function"
  count                 = local.functions ? 1 : 0
  project_id            = var.project_id
  region                = var.region
  name                  = "${var.name}-api"
  description           = "ducto API of system ${var.name}, behind API Gateway."
  entry_point           = "api"
  runtime               = var.runtime
  source_archive        = var.source_archive
  build_service_account = var.build_service_account
  docker_repository     = var.docker_repository
  # API Gateway reaches the backend from outside the project, so the network stays open and IAM
  # admits the gateway's identity alone.
  ingress_settings             = "ALLOW_ALL"
  invokers                     = [module.gateway.service_account_member]
  environment_variables        = merge(local.environment, var.api.environment_variables)
  secret_environment_variables = local.api_secrets
  min_instances                = var.api.min_instances
  max_instances                = var.api.max_instances
  concurrency                  = var.api.concurrency
  memory                       = var.api.memory
  cpu                          = var.api.cpu
  timeout_seconds              = var.api.timeout_seconds
  labels                       = merge(local.labels, { component = "api" })
}

module "ingest_service" {
  source                = "../cloud-run-service"
  count                 = local.functions ? 0 : 1
  project_id            = var.project_id
  region                = var.region
  name                  = "${var.name}-ingest"
  description           = "ducto ingest of system ${var.name} (container): Pub/Sub push to BigQuery."
  entry_point           = "ingest"
  image                 = var.container_image
  ingress               = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  invokers              = [google_service_account.push.member]
  deletion_protection   = var.deletion_protection
  environment_variables = merge(local.environment, var.ingest.environment_variables)
  min_instances         = var.ingest.min_instances
  max_instances         = var.ingest.max_instances
  concurrency           = var.ingest.concurrency
  memory                = var.ingest.memory
  cpu                   = var.ingest.cpu
  timeout_seconds       = var.ingest.timeout_seconds
  labels                = merge(local.labels, { component = "ingest" })
}

module "api_service" {
  source                       = "../cloud-run-service"
  count                        = local.functions ? 0 : 1
  project_id                   = var.project_id
  region                       = var.region
  name                         = "${var.name}-api"
  description                  = "ducto API of system ${var.name} (container), behind API Gateway."
  entry_point                  = "api"
  image                        = var.container_image
  ingress                      = "INGRESS_TRAFFIC_ALL"
  invokers                     = [module.gateway.service_account_member]
  deletion_protection          = var.deletion_protection
  environment_variables        = merge(local.environment, var.api.environment_variables)
  secret_environment_variables = local.api_secrets
  min_instances                = var.api.min_instances
  max_instances                = var.api.max_instances
  concurrency                  = var.api.concurrency
  memory                       = var.api.memory
  cpu                          = var.api.cpu
  timeout_seconds              = var.api.timeout_seconds
  labels                       = merge(local.labels, { component = "api" })
}

# Signs the API's pagination cursors; every instance must share it. The value never enters the
# state: it is generated ephemerally and written once (bump cursor_secret_version to rotate).
resource "google_secret_manager_secret" "cursor" {
  project   = var.project_id
  secret_id = "${var.name}-cursor-secret"
  labels    = merge(local.labels, { component = "api" })
  replication {
    auto {}
  }
}

ephemeral "random_password" "cursor" {
  length  = 48
  special = false
}

resource "google_secret_manager_secret_version" "cursor" {
  secret                 = google_secret_manager_secret.cursor.id
  secret_data_wo         = ephemeral.random_password.cursor.result
  secret_data_wo_version = var.cursor_secret_version
}

# --- front door --------------------------------------------------------------------------------

module "spec" {
  source                    = "../gateway-spec"
  title                     = "ducto ${var.name}"
  backend_url               = local.api_url
  base_document             = var.gateway_base_document
  dataset_paths             = [for d in local.dataset_names : var.datasets[d].gateway_paths]
  quota_requests_per_minute = var.quota_requests_per_minute
}

module "gateway" {
  source     = "../api-gateway"
  project_id = var.project_id
  region     = var.gateway_region
  name       = var.name
  spec       = module.spec.document
  consumers  = var.consumers
  api_keys   = var.api_keys
  labels     = merge(local.labels, { component = "front-door" })
}
