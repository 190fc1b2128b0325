# ducto in one environment's project: what the systems share (the source archive, the build
# identity, the image repository) and one `system` module per entry of var.systems.

locals {
  env       = "dev"
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
    ".ci/**", ".git/**", ".github/**", "bench/**", "bin/**", "data/**", "dist/**", "docs/**",
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

resource "google_project_iam_member" "build_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

resource "google_storage_bucket_iam_member" "build_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

module "registry" {
  source     = "../../modules/artifact-registry"
  project_id = var.project_id
  location   = var.region
  name       = "ducto"
  writers    = [google_service_account.build.member]
  labels     = merge(local.labels, { component = "delivery" })
}

# --- the systems -----------------------------------------------------------------------------

module "system" {
  source         = "../../modules/system"
  for_each       = var.systems
  name           = each.key
  env            = local.env
  project_id     = var.project_id
  project_number = data.google_project.default.number
  region         = var.region
  datasets = {
    for d in(length(each.value.datasets) > 0 ? each.value.datasets : local.datasets) : d => module.dataset_files.datasets[d]
  }
  bigquery_location         = coalesce(var.bigquery_location, var.region)
  deletion_protection       = false
  compute                   = each.value.compute
  container_image           = each.value.container_image
  runtime                   = var.runtime
  source_archive            = { bucket = google_storage_bucket.sources.name, object = google_storage_bucket_object.source.name }
  build_service_account     = google_service_account.build.email
  docker_repository         = module.registry.id
  gateway_base_document     = file("${local.repo_root}/infra/gateway/base.json")
  quota_requests_per_minute = each.value.quota_requests_per_minute
  consumers                 = each.value.consumers
  api_keys                  = each.value.api_keys
  api                       = each.value.api
  ingest                    = each.value.ingest
  labels                    = var.labels
  depends_on                = [google_project_iam_member.build_log_writer, google_storage_bucket_iam_member.build_sources]
}

# --- observability: log-based metrics, SLOs and alerts per system, one fleet dashboard ---------

module "monitoring" {
  source                = "../../modules/monitoring"
  project_id            = var.project_id
  env                   = local.env
  labels                = var.labels
  notification_channels = var.alert_notification_channels
  systems = {
    for name, s in var.systems : name => {
      datasets = length(s.datasets) > 0 ? s.datasets : local.datasets
    }
  }
  depends_on = [module.system]
}
