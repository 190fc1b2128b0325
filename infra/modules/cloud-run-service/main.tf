# The container path: the repository's Dockerfile image running one entry point (api or ingest) on
# Cloud Run, with its own service account. Same contract as the function module: a URL, an
# identity to grant data access to, and invokers named explicitly.

resource "google_service_account" "default" {
  project      = var.project_id
  account_id   = var.name
  display_name = "ducto ${var.entry_point} service ${var.name}"
}

resource "google_cloud_run_v2_service" "default" {
  project             = var.project_id
  location            = var.region
  name                = var.name
  description         = var.description
  labels              = var.labels
  ingress             = var.ingress
  deletion_protection = var.deletion_protection
  template {
    service_account                  = google_service_account.default.email
    max_instance_request_concurrency = var.concurrency
    timeout                          = "${var.timeout_seconds}s"
    labels                           = var.labels
    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }
    containers {
      image = var.image
      args  = [var.entry_point]
      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        cpu_idle = true
      }
      ports {
        container_port = 8080
      }
      dynamic "env" {
        for_each = merge(var.environment_variables, { HOST = "0.0.0.0" })
        content {
          name  = env.key
          value = env.value
        }
      }
      dynamic "env" {
        for_each = var.secret_environment_variables
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value.secret
              version = env.value.version
            }
          }
        }
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

resource "google_cloud_run_v2_service_iam_binding" "invokers" {
  count    = length(var.invokers) > 0 ? 1 : 0
  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.default.name
  role     = "roles/run.invoker"
  members  = var.invokers
}
