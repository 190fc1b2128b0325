# ducto in one environment's project: what the systems share (the source archive, the build
# identity and its image repository, Pub/Sub's service agent) and one `system` module per entry of
# var.systems. The container image repository, the state bucket and the CI identity come from
# infra/bootstrap.

locals {
  env       = "prod"
  repo_root = "${path.module}/../../.."
  labels    = { system = "shared", env = local.env }
  # Every schemas/*.json file is a dataset; a system serves the ones it lists, or all of them.
  datasets = sort([
    for f in fileset("${local.repo_root}/schemas", "*.json") : jsondecode(file("${local.repo_root}/schemas/${f}")).name
  ])
}

data "google_project" "default" {
  project_id = var.project_id
}

module "dataset_files" {
  source        = "../../modules/dataset-files"
  datasets      = local.datasets
  generated_dir = "${local.repo_root}/infra/generated"
  gateway_dir   = "${local.repo_root}/infra/gateway"
}

# --- the function source, built from this checkout -------------------------------------------

resource "google_storage_bucket" "sources" {
  project                     = var.project_id
  name                        = "${var.project_id}-ducto-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = merge(local.labels, { component = "delivery" })
  lifecycle_rule {
    condition {
      age = 90
    }
    action {
      type = "Delete"
    }
  }
}

# What the function build needs (package files, src/, schemas/): the rest of the repository is left out.
data "archive_file" "source" {
  type        = "zip"
  source_dir  = local.repo_root
  output_path = "${path.module}/.terraform/ducto-source.zip"
  excludes = [
    # `.git` is a file in a git worktree (the rollback checks the previous commit out in one).
    ".ci/**", ".git", ".git/**", ".github/**", "bench/**", "bin/**", "data/**", "dist/**", "docs/**",
    "infra/**", "node_modules/**", "test/**", "**/*.duckdb", "**/*.duckdb.wal",
  ]
}

resource "google_storage_bucket_object" "source" {
  bucket = google_storage_bucket.sources.name
  name   = "ducto-${data.archive_file.source.output_md5}.zip"
  source = data.archive_file.source.output_path
}

# --- builds ----------------------------------------------------------------------------------

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "ducto-build"
  display_name = "Cloud Build for ducto's functions: reads sources, pushes images, writes logs"
}

# What the build account needs, as Google's page on the Cloud Run functions build service account
# lists it: write logs, read the source, write the image.
resource "google_project_iam_member" "build_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

# Cloud Run functions copies storage_source into its own gcf-v2-sources-<project number>-<region>
# bucket and builds from that copy, which no bucket-level grant here can reach (the bucket is
# Google's, created on first deploy). The grant is project-wide but holds for that bucket alone.
resource "google_project_iam_member" "build_sources" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = google_service_account.build.member
  condition {
    title       = "function-sources-only"
    description = "Objects of the Cloud Run functions source bucket of this project and region."
    expression  = "resource.name == \"projects/_/buckets/gcf-v2-sources-${data.google_project.default.number}-${var.region}\" || resource.name.startsWith(\"projects/_/buckets/gcf-v2-sources-${data.google_project.default.number}-${var.region}/objects/\")"
  }
}

resource "google_storage_bucket_iam_member" "build_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

# The functions' images. Not bootstrap's repository: each function build moves tags (its cache's
# `latest`) that an immutable-tag repository refuses to move.
module "function_images" {
  source      = "../../modules/artifact-registry"
  project_id  = var.project_id
  location    = var.region
  name        = "ducto-functions"
  description = "Images Cloud Build makes for ducto's functions"
  labels      = merge(local.labels, { component = "delivery" })
}

resource "google_artifact_registry_repository_iam_member" "build_writer" {
  project    = var.project_id
  location   = var.region
  repository = module.function_images.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

# IAM changes take effect within about a minute, sometimes longer (Google's access change
# propagation page), and a build that starts before them fails. The functions take the build
# account's id from this wait, so no build starts before every grant above has had that minute.
resource "time_sleep" "build_iam" {
  create_duration = var.iam_propagation
  triggers = {
    service_account = google_service_account.build.id
    grants = join(",", [
      google_project_iam_member.build_log_writer.id,
      google_project_iam_member.build_sources.id,
      google_storage_bucket_iam_member.build_sources.id,
      google_artifact_registry_repository_iam_member.build_writer.id,
    ])
  }
}

# --- Pub/Sub's service agent -------------------------------------------------------------------

# It signs push OIDC tokens and moves dead letters. On a new project it exists only once something
# asks for it; this asks, and names it for the grants the systems make, after a short wait.
resource "google_project_service_identity" "pubsub" {
  provider = google-beta
  project  = var.project_id
  service  = "pubsub.googleapis.com"
}

resource "time_sleep" "pubsub_agent" {
  create_duration = var.iam_propagation
  # `email` rather than `member`: the provider leaves member empty for some services (provider
  # issue 21931); for Pub/Sub the email is the one field the API returns.
  triggers = { member = "serviceAccount:${google_project_service_identity.pubsub.email}" }
}

# --- the systems -----------------------------------------------------------------------------

module "system" {
  source         = "../../modules/system"
  for_each       = var.systems
  name           = each.key
  env            = local.env
  project_id     = var.project_id
  region         = var.region
  gateway_region = var.gateway_region
  datasets = {
    for d in(length(each.value.datasets) > 0 ? each.value.datasets : local.datasets) : d => module.dataset_files.datasets[d]
  }
  bigquery_location         = coalesce(var.bigquery_location, var.region)
  deletion_protection       = true
  compute                   = each.value.compute
  container_image           = each.value.container_image == null ? var.container_image : each.value.container_image
  runtime                   = var.runtime
  source_archive            = { bucket = google_storage_bucket.sources.name, object = google_storage_bucket_object.source.name }
  build_service_account     = time_sleep.build_iam.triggers["service_account"]
  pubsub_service_agent      = time_sleep.pubsub_agent.triggers["member"]
  docker_repository         = module.function_images.id
  gateway_base_document     = file("${local.repo_root}/infra/gateway/base.json")
  quota_requests_per_minute = each.value.quota_requests_per_minute
  consumers                 = each.value.consumers
  api_keys                  = each.value.api_keys
  api                       = each.value.api
  ingest                    = each.value.ingest
  labels                    = var.labels
}

# --- observability: log-based metrics, SLOs and alerts per system, one fleet dashboard ---------

module "monitoring" {
  source                       = "../../modules/monitoring"
  project_id                   = var.project_id
  env                          = local.env
  labels                       = var.labels
  page_notification_channels   = var.alert_page_channels
  ticket_notification_channels = var.alert_ticket_channels
  # The names of what each system runs, as the system reports them.
  systems = { for name, s in module.system : name => s.monitoring }
}
