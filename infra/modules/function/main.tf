# A Cloud Run function (gen2) running one of ducto's entry points from a source archive in GCS,
# with its own runtime service account: whatever it may touch is granted to that account alone.

resource "google_service_account" "default" {
  project      = var.project_id
  account_id   = var.name
  display_name = "ducto ${var.entry_point} function ${var.name}"
}

resource "google_cloudfunctions2_function" "default" {
  project     = var.project_id
  location    = var.region
  name        = var.name
  description = var.description
  labels      = var.labels
  build_config {
    runtime     = var.runtime
    entry_point = var.entry_point
    # Builds run as a dedicated account that can read the sources and push the image, nothing else.
    service_account   = var.build_service_account
    docker_repository = var.docker_repository
    source {
      storage_source {
        bucket = var.source_archive.bucket
        object = var.source_archive.object
      }
    }
  }
  service_config {
    service_account_email            = google_service_account.default.email
    ingress_settings                 = var.ingress_settings
    min_instance_count               = var.min_instances
    max_instance_count               = var.max_instances
    max_instance_request_concurrency = var.concurrency
    available_memory                 = var.memory
    available_cpu                    = var.cpu
    timeout_seconds                  = var.timeout_seconds
    all_traffic_on_latest_revision   = true
    environment_variables            = var.environment_variables
    dynamic "secret_environment_variables" {
      for_each = var.secret_environment_variables
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value.secret
        version    = secret_environment_variables.value.version
      }
    }
  }
  # Cloud Run refuses a revision whose account cannot read its secrets: the grants come first, and
  # have time to propagate.
  depends_on = [time_sleep.secret_access]
}

resource "google_secret_manager_secret_iam_member" "secrets" {
  for_each  = var.secret_environment_variables
  project   = var.project_id
  secret_id = each.value.secret
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.default.member
}

# IAM changes take effect within about a minute, sometimes longer (Google's access change
# propagation page): a revision created right after the grant may still be refused.
resource "time_sleep" "secret_access" {
  count           = length(var.secret_environment_variables) > 0 ? 1 : 0
  create_duration = var.iam_propagation
  triggers        = { for k, m in google_secret_manager_secret_iam_member.secrets : k => m.etag }
}

# A gen2 function is a Cloud Run service: invoking it takes run.invoker on that service. The
# binding is authoritative, so nobody else (and never allUsers) can invoke it.
resource "google_cloud_run_v2_service_iam_binding" "invokers" {
  count    = length(var.invokers) > 0 ? 1 : 0
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.default.name
  role     = "roles/run.invoker"
  members  = var.invokers
}
